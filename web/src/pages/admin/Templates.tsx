import { keys, usePagedList } from '../../api/queries.ts';
import type { Template } from '../../api/types.ts';
import { PageHeader } from '../../components/Layout.tsx';
import { Empty, flatPages, LoadMore, QueryView } from '../../components/Status.tsx';
import { formatDuration } from '../../lib/format.ts';
import { Link } from '../../router.tsx';
import { useAllApplications } from './common.tsx';

export function TemplatesPage() {
  const list = usePagedList<Template>(keys.admin('templates', 'list'), '/access-request-templates');
  const apps = useAllApplications();
  const appName = (id: string) => apps.data?.find((a) => a.id === id)?.name ?? '…';
  return (
    <>
      <PageHeader
        title="Templates"
        lead="What people may request: an application's mappings, for a chosen time, decided by approvers."
        actions={
          <Link to="/admin/templates/new" className="btn btn-primary">
            New template
          </Link>
        }
      />
      <QueryView query={list} loading="Loading templates…" isEmpty={(d) => flatPages(d).length === 0} empty={<Empty title="No templates yet">Create one so people can request access.</Empty>}>
        {(d) => (
          <>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Templates</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Application</th>
                    <th scope="col">Durations</th>
                    <th scope="col">Approval</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {flatPages(d).map((t) => (
                    <tr key={t.id}>
                      <td>
                        <Link to={`/admin/templates/${t.id}`}>{t.name}</Link>
                      </td>
                      <td>{appName(t.app_id)}</td>
                      <td>{t.allowed_durations.map(formatDuration).join(', ')}</td>
                      <td>{t.auto_approve ? 'automatic' : t.approver_group_ids.length ? `${t.approver_group_ids.length} group(s)` : 'open'}</td>
                      <td>{t.enabled ? `v${t.version}` : <span className="badge badge-cancelled">Disabled</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <LoadMore query={list} />
          </>
        )}
      </QueryView>
    </>
  );
}
