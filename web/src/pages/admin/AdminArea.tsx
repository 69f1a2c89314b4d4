import type { ReactNode } from 'react';
import { matchPath, NavLink } from '../../router.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { ApplicationDetailPage, ApplicationsPage } from './Applications.tsx';
import { AuditPage } from './Audit.tsx';
import { DeliveriesPage } from './Deliveries.tsx';
import { EventActionDetailPage, EventActionsPage } from './EventActions.tsx';
import { GrantsPage } from './Grants.tsx';
import { GroupDetailPage, GroupsPage } from './Groups.tsx';
import { RequestsPage } from './Requests.tsx';
import { InsightsPage } from './Insights.tsx';
import { SignInSecurityPage } from './SignInSecurity.tsx';
import { SlackSettingsPage } from './SlackSettings.tsx';
import { ScriptDetailPage, ScriptsPage } from './Scripts.tsx';
import { TemplateEditorPage } from './TemplateEditor.tsx';
import { TemplatesPage } from './Templates.tsx';
import { UserDetailPage, UsersPage } from './Users.tsx';

const SECTIONS: [path: string, label: string][] = [
  ['/admin/requests', 'Requests'],
  ['/admin/users', 'Users'],
  ['/admin/groups', 'Groups'],
  ['/admin/applications', 'Applications'],
  ['/admin/templates', 'Templates'],
  ['/admin/grants', 'Active grants'],
  ['/admin/scripts', 'Scripts'],
  ['/admin/event-actions', 'Event actions'],
  ['/admin/deliveries', 'Deliveries'],
  ['/admin/slack', 'Slack'],
  ['/admin/audit', 'Audit log'],
  ['/admin/insights', 'Insights'],
  ['/admin/security', 'Sign-in security'],
];

type Route = [pattern: string, render: (p: Record<string, string>) => ReactNode];

const ROUTES: Route[] = [
  ['/admin', () => <UsersPage />],
  ['/admin/users', () => <UsersPage />],
  ['/admin/users/:id', (p) => <UserDetailPage key={p.id} id={p.id!} />],
  ['/admin/groups', () => <GroupsPage />],
  ['/admin/groups/:id', (p) => <GroupDetailPage key={p.id} id={p.id!} />],
  ['/admin/applications', () => <ApplicationsPage />],
  ['/admin/applications/:id', (p) => <ApplicationDetailPage key={p.id} id={p.id!} />],
  ['/admin/templates', () => <TemplatesPage />],
  ['/admin/templates/new', () => <TemplateEditorPage key="new" id={null} />],
  ['/admin/templates/:id', (p) => <TemplateEditorPage key={p.id} id={p.id!} />],
  ['/admin/grants', () => <GrantsPage />],
  ['/admin/requests', () => <RequestsPage />],
  ['/admin/scripts', () => <ScriptsPage />],
  ['/admin/scripts/:id', (p) => <ScriptDetailPage key={p.id} id={p.id!} />],
  ['/admin/event-actions', () => <EventActionsPage />],
  ['/admin/event-actions/:id', (p) => <EventActionDetailPage key={p.id} id={p.id!} />],
  ['/admin/deliveries', () => <DeliveriesPage />],
  ['/admin/slack', () => <SlackSettingsPage />],
  ['/admin/audit', () => <AuditPage />],
  ['/admin/insights', () => <InsightsPage />],
  ['/admin/security', () => <SignInSecurityPage />],
];

/** Administration: a section menu beside the page. Rendered for admins only (see AdminOnly). */
export default function AdminArea({ pathname }: { pathname: string }) {
  let page: ReactNode = null;
  for (const [pattern, render] of ROUTES) {
    const params = matchPath(pattern, pathname);
    if (params) {
      page = render(params);
      break;
    }
  }
  return (
    <div className="admin-layout">
      <nav aria-label="Administration" className="subnav">
        <ul>
          {SECTIONS.map(([path, label]) => (
            <li key={path}>
              <NavLink to={path}>{label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="admin-page">{page ?? <PageHeader title="Page not found" />}</div>
    </div>
  );
}
