/**
 * Table types for Kysely. Instants are epoch milliseconds; booleans are 0/1 integers
 * and JSON is text in both dialects, so rows read the same from SQLite and PostgreSQL.
 */
export type Flag = 0 | 1;

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  is_admin: Flag;
  disabled: Flag;
  must_change_password: Flag;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface GroupsTable {
  id: string;
  name: string;
  description: string;
  is_system: Flag;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface MembershipsTable {
  group_id: string;
  user_id: string;
  expires_at: number | null;
  created_at: number;
}

export interface ApplicationsTable {
  id: string;
  name: string;
  description: string;
  client_secret_hash: string | null;
  token_endpoint_auth_method: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string;
  id_token_signed_response_alg: string;
  access_token_ttl_secs: number;
  id_token_ttl_secs: number;
  refresh_token_ttl_secs: number;
  first_party: Flag;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface MappingsTable {
  id: string;
  app_id: string;
  claim: string;
  value_json: string;
  description: string;
  created_at: number;
  updated_at: number;
}

export interface MappingGroupsTable {
  mapping_id: string;
  group_id: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  expires_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_start: number;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk_encrypted: string;
  created_at: number;
  retired_at: number | null;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  at: number;
  actor_type: 'user' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface DB {
  users: UsersTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  applications: ApplicationsTable;
  mappings: MappingsTable;
  mapping_groups: MappingGroupsTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  oidc_payloads: OidcPayloadsTable;
  signing_keys: SigningKeysTable;
  settings: SettingsTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  access_request_templates: AccessRequestTemplatesTable;
  template_groups: TemplateGroupsTable;
  template_mappings: TemplateMappingsTable;
  access_requests: AccessRequestsTable;
  access_request_comments: AccessRequestCommentsTable;
}

export interface AccessRequestTemplatesTable {
  id: string;
  name: string;
  description: string;
  enabled: Flag;
  app_id: string;
  /** JSON array of minutes. */
  allowed_durations: string;
  require_justification: Flag;
  auto_approve: Flag;
  notification_policy: 'all' | 'first_n' | 'random_n' | 'round_robin';
  notification_count: number;
  escalation_after_mins: number | null;
  escalation_group_id: string | null;
  /** JSON array of custom field definitions. */
  custom_fields: string;
  trigger_script_id: string | null;
  trigger_failure_mode: 'ignore' | 'retry' | 'block';
  trigger_max_retries: number;
  /** Bumped on every change; a request records the version it was made against. */
  version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface TemplateGroupsTable {
  template_id: string;
  group_id: string;
  role: 'approver' | 'requester';
}

export interface TemplateMappingsTable {
  template_id: string;
  mapping_id: string;
}

export type RequestStatus = 'pending' | 'provisioning' | 'approved' | 'denied' | 'cancelled' | 'expired' | 'revoked';

export interface AccessRequestsTable {
  id: string;
  template_id: string;
  template_version: number;
  requester_id: string;
  status: RequestStatus;
  duration_mins: number;
  justification: string;
  fields: string;
  snapshot: string;
  notified_approver_ids: string;
  escalated: Flag;
  escalated_at: number | null;
  decided_by: string | null;
  decided_at: number | null;
  decision_comment: string | null;
  provisioning_deadline: number | null;
  approved_at: number | null;
  expires_at: number | null;
  grant_group_id: string | null;
  ended_at: number | null;
  end_reason: 'automatic' | 'manual' | null;
  ended_by: string | null;
  revoke_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface AccessRequestCommentsTable {
  id: string;
  request_id: string;
  author_id: string;
  body: string;
  created_at: number;
}
