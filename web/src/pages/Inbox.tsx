import { useQuery } from '@tanstack/react-query';
import { get } from '../api/client.ts';
import { keys, usePagedList } from '../api/queries.ts';
import { useSession } from '../session.tsx';
import type { AccessRequest } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { answerText, humanKey, StatusBadge } from '../components/RequestBits.tsx';
import { Empty, PagedView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { formatDuration } from '../lib/format.ts';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';

function InboxItem({ request }: { request: AccessRequest }) {
  const answers = Object.entries(request.fields);
  return (
    <li className={`card inbox-item${request.escalated ? ' is-escalated' : ''}`} data-request-id={request.id}>
      <div className="request-row-main">
        <p className="eyebrow">
          {request.requester.name} · <Time iso={request.created_at} />
        </p>
        <h2 className="h3">
          <Link to={`/requests/${request.id}`}>{request.template_name}</Link>
        </h2>
        <p className="small muted">
          {request.app.name} · {request.kind === 'extension' ? `${formatDuration(request.duration_mins)} more (extension of an active grant)` : formatDuration(request.duration_mins)}
        </p>
        <p className="prewrap clamp">{request.justification || <span className="muted">No justification given.</span>}</p>
        {answers.length > 0 && (
          <ul className="answer-list" aria-label="Answers">
            {answers.map(([k, v]) => (
              <li key={k}>
                <span className="muted">{request.field_labels[k] ?? humanKey(k)}:</span> {answerText(v)}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="request-row-side">
        <StatusBadge status={request.status} escalated={request.escalated} />
        <Link to={`/requests/${request.id}`} className="btn btn-primary btn-small">
          Review
        </Link>
      </div>
    </li>
  );
}

/** For an admin: how many pending requests wait for other approvers, with a link to them (issue 14 §1). */
function PendingElsewhere() {
  const { user } = useSession();
  const count = useQuery({
    queryKey: keys.requests('pending-elsewhere'),
    queryFn: async () => (await get<{ count: number }>('/access-requests/all/pending-elsewhere')).count,
    enabled: user.is_admin,
  });
  if (!user.is_admin || !count.data) return null;
  return (
    <p className="notice" data-testid="pending-elsewhere">
      {count.data === 1 ? '1 pending request waits' : `${count.data} pending requests wait`} for other approvers.{' '}
      <Link to="/admin/requests?status=pending">See all pending requests</Link>
    </p>
  );
}

/** Pending requests the signed-in user may decide, oldest first, escalated ones marked. */
export function InboxPage() {
  const list = usePagedList<AccessRequest>(keys.requests('inbox'), '/access-requests/inbox');
  return (
    <>
      <PageHeader title="Inbox" lead="Requests waiting for your decision, oldest first. New ones appear here as they arrive." actions={<Link to="/decided">Decided by you</Link>} />
      <PendingElsewhere />
      <PagedView query={list} loading="Loading your inbox…" empty={<Empty title="Nothing waiting for you">When someone asks for access you may approve, it shows up here.</Empty>}>
        {(waiting) => (
          <ul className="stack" aria-label="Requests waiting for you">
            {waiting.map((r) => (
              <InboxItem key={r.id} request={r} />
            ))}
          </ul>
        )}
      </PagedView>
    </>
  );
}

/** Requests the signed-in user approved or denied. */
export function DecidedPage() {
  const list = usePagedList<AccessRequest>(keys.requests('decided'), '/access-requests/decided');
  return (
    <>
      <PageHeader title="Decided by you" lead="The requests you approved or denied, newest first." />
      <PagedView query={list} loading="Loading your decisions…" empty={<Empty title="No decisions yet" />}>
        {(decided) => (
          <DataTable caption="Requests you decided" columns={['Request', 'Requester', 'Duration', 'Decided', 'Status now']}>
            {decided.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/requests/${r.id}`}>{r.template_name}</Link>
                </td>
                <td>{r.requester.name}</td>
                <td>{formatDuration(r.duration_mins)}</td>
                <td><Time iso={r.decided_at} /></td>
                <td>
                  <StatusBadge status={r.status} scheduled={r.scheduled} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}
