/** What the audit log calls each target type. */
export const TARGET_LABELS: Record<string, string> = {
  user: 'User',
  group: 'Group',
  application: 'Application',
  template: 'Template',
  access_request: 'Request',
  mapping: 'Mapping',
  script: 'Script',
  script_secret: 'Script secret',
  event_action: 'Event action',
  resource_server: 'Resource server',
  api_token: 'API token',
  delivery: 'Delivery',
  settings: 'Settings',
  signing_keys: 'Signing keys',
  ssf_stream: 'Shared Signals stream',
};

/** A grant's group is named after its request: such a group links to the request instead. */
const GRANT_GROUP_PREFIX = '__access_req_';

/** Where a target's page is in the portal; null for a type without one. */
export function targetHref(target: { type: string; id: string; name: string }): string | null {
  switch (target.type) {
    case 'user':
      return `/admin/users/${target.id}`;
    case 'access_request':
      return `/requests/${target.id}`;
    case 'template':
      return `/admin/templates/${target.id}`;
    case 'application':
      return `/admin/applications/${target.id}`;
    case 'group':
      return target.name.startsWith(GRANT_GROUP_PREFIX) ? `/requests/${target.name.slice(GRANT_GROUP_PREFIX.length)}` : `/admin/groups/${target.id}`;
    case 'script':
      return `/admin/scripts/${target.id}`;
    case 'event_action':
      return `/admin/event-actions/${target.id}`;
    default:
      return null;
  }
}
