import { keys, usePagedList } from '../api/queries.ts';
import type { AccessRequest } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { StatusBadge } from '../components/RequestBits.tsx';
import { Empty, PagedView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { formatDuration } from '../lib/format.ts';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';

/** The inbox lives in pages/inbox/ (decisions in place, bulk, shortcuts); its route still imports it from here. */
export { InboxPage } from './inbox/InboxPage.tsx';

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
