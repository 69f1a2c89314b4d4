import { keys, usePagedList } from '../../api/queries.ts';
import type { Template } from '../../api/admin-types.ts';
import { PageHeader } from '../../components/Layout.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Empty, PagedView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { formatDuration } from '../../lib/format.ts';
import { Link } from '../../router.tsx';
import { useAllApplications } from './common.tsx';

export function TemplatesPage() {
  const q = useSearchQuery();
  const list = usePagedList<Template>(keys.admin('templates', 'list'), '/access-request-templates', { q: q || undefined });
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
      <SearchBox label="Search templates by name or description" placeholder="part of a name or description" />
      <PagedView
        query={list}
        loading="Loading templates…"
        empty={
          <SearchEmpty q={q}>
            <Empty title="No templates yet">Create one so people can request access.</Empty>
          </SearchEmpty>
        }
      >
        {(templates) => (
          <DataTable caption="Templates" columns={['Name', 'Application', 'Durations', 'Approval', 'State']}>
            {templates.map((t) => (
              <tr key={t.id}>
                <td>
                  <Link to={`/admin/templates/${t.id}`}>{t.name}</Link>
                </td>
                <td>{appName(t.app_id)}</td>
                <td>{t.allowed_durations.map(formatDuration).join(', ')}</td>
                <td>
                  {t.auto_approve ? 'automatic' : t.approval === 'groups' ? `${t.approver_group_ids.length} group(s)` : 'open'}
                  {t.warnings.includes('approver_groups_without_active_members') && <span className="muted"> · no active approver</span>}
                </td>
                <td>{t.enabled ? `v${t.version}` : <span className="badge badge-cancelled">Disabled</span>}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}
