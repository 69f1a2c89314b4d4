import { keys, usePagedList } from '../api/queries.ts';
import type { AccessRequest } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { StatusBadge } from '../components/RequestBits.tsx';
import { Empty, PagedView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { Link } from '../router.tsx';
import { Time } from '../components/Time.tsx';

/** Break-glass grants nobody has reviewed yet: every one for an admin, those of your templates for an approver. */
export function BreakGlassQueuePage() {
  const list = usePagedList<AccessRequest>(keys.requests('break-glass'), '/access-requests/break-glass/unreviewed');
  return (
    <>
      <PageHeader title="Break-glass reviews" lead="Access people granted themselves in an emergency, waiting for an approver to review it, oldest first." />
      <PagedView query={list} loading="Loading the review queue…" empty={<Empty title="Nothing to review">No break-glass access is waiting for your review.</Empty>}>
        {(items) => (
          <DataTable caption="Unreviewed break-glass access" columns={['Access', 'Who', 'Justification', 'Review due', 'Status']}>
            {items.map((r) => (
              <tr key={r.id} data-request-id={r.id} className={r.break_glass?.review_overdue ? 'is-overdue' : undefined}>
                <td>
                  <Link to={`/requests/${r.id}`}>{r.template_name}</Link>
                </td>
                <td>{r.requester.name}</td>
                <td className="prewrap clamp">{r.justification}</td>
                <td>
                  <Time iso={r.break_glass?.review_due_at ?? null} />
                  {r.break_glass?.review_overdue && <span className="badge badge-escalated"> Overdue</span>}
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}
