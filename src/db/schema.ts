import type { Generated } from 'kysely';

/**
 * Table types for Kysely. Instants are epoch milliseconds; booleans are 0/1 integers
 * and JSON is text in both dialects, so rows read the same from SQLite and PostgreSQL.
 */
import type { ColumnType } from 'kysely';
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
  /** When the membership starts counting (a scheduled grant's window); null: at once. */
  starts_at: number | null;
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
  /** Attempts in this window not (yet) known to have succeeded: reserved before the password is checked. */
  failures: number;
  window_start: number;
  /** window_start of the window whose failures were audited already (one event per key per window). */
  failure_audited_window: number | null;
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
  /** When the key leaves the JWKS (scheduled ahead by rotation); null while it has no successor. */
  retired_at: number | null;
  /** When the key starts signing: published first, signing from here (0 for keys made before rotation). */
  signs_from: number;
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
  template_stages: TemplateStagesTable;
  template_stage_groups: TemplateStageGroupsTable;
  access_requests: AccessRequestsTable;
  access_request_comments: AccessRequestCommentsTable;
  access_request_votes: AccessRequestVotesTable;
  outbox_events: OutboxEventsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  notifications: NotificationsTable;
  round_robin_positions: RoundRobinPositionsTable;
  scripts: ScriptsTable;
  script_secrets: ScriptSecretsTable;
  script_secret_grants: ScriptSecretGrantsTable;
  script_runs: ScriptRunsTable;
  event_actions: EventActionsTable;
  resource_servers: ResourceServersTable;
  resource_server_apps: ResourceServerAppsTable;
  break_glass_grants: BreakGlassGrantsTable;
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
  /** Minutes a request may stay pending before it lapses; null: never. */
  pending_ttl_mins: number | null;
  /** Requesters may grant themselves access at once (break-glass), reviewed afterwards. */
  break_glass: ColumnType<Flag, Flag | undefined, Flag>;
  break_glass_max_mins: number | null;
  break_glass_review_mins: number | null;
  /** Distinct approvals stage 1 needs (stages 2..n: template_stages). */
  quorum: Generated<number>;
  /** Whether a requester may extend an active grant, with or without approval. */
  allow_extension: Generated<Flag>;
  extension_requires_approval: Generated<Flag>;
  /** The longest a grant may last with its extensions, counted from its start; null when extensions are off. */
  max_total_mins: number | null;
  /** How far ahead (minutes) a request may ask its access to start; null or 0: no scheduled start. */
  max_start_delay_mins: number | null;
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

/** Approval stages 2..n of a template (stage 1 is the template's flat columns). */
export interface TemplateStagesTable {
  template_id: string;
  position: number;
  quorum: number;
  escalation_after_mins: number | null;
  escalation_group_id: string | null;
}

/** The approver groups of stages 2..n; a stage without any is open. */
export interface TemplateStageGroupsTable {
  template_id: string;
  position: number;
  group_id: string;
}

export interface TemplateMappingsTable {
  template_id: string;
  mapping_id: string;
}

/** `extended`: an extension request whose time was added to its parent grant (terminal). */
export type RequestStatus = 'pending' | 'provisioning' | 'approved' | 'denied' | 'cancelled' | 'expired' | 'revoked' | 'lapsed' | 'extended';

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
  /** automatic: expired; manual: revoked, denied or cancelled by someone; reverted: a blocking trigger's approval was undone (see provisioning_error). */
  end_reason: 'automatic' | 'manual' | 'reverted' | null;
  ended_by: string | null;
  revoke_reason: string | null;
  /** When the expiring_soon notice went out (once per grant). */
  expiring_notice_at: number | null;
  /** The blocking trigger task's error from the last failed approval. */
  provisioning_error: string | null;
  /** Id of the blocking-trigger run that the current (or last) provisioning state belongs to. */
  provisioning_attempt: string | null;
  /** The approval stage a pending request waits in (1-based). */
  current_stage: Generated<number>;
  /** When the current stage (2..n) escalates; stage 1 escalates from the template's columns. */
  stage_escalate_at: number | null;
  /** 'request' for a grant request; 'extension' for a request to extend the grant `parent_id`. */
  kind: Generated<'request' | 'extension'>;
  /** The grant an extension extends; null for a grant request. */
  parent_id: Generated<string | null>;
  /** The start the requester asked for (scheduled start); null: access starts at approval. */
  starts_at: number | null;
  /** When the grant's window opened and `activated` was recorded; null while a scheduled grant waits. */
  activated_at: number | null;
  created_at: number;
  updated_at: number;
}

export type BreakGlassReviewState = 'unreviewed' | 'reviewed' | 'revoked';

/** A break-glass activation and its after-the-fact review (src/modules/requests/break-glass.ts). */
export interface BreakGlassGrantsTable {
  request_id: string;
  requester_id: string;
  template_id: string;
  activated_at: number;
  review_due_at: number;
  review_state: BreakGlassReviewState;
  reviewed_by: string | null;
  reviewed_at: number | null;
  review_comment: string | null;
  /** When the review-overdue alert went out (once per grant). */
  overdue_alerted_at: number | null;
}

/** One approval of a request: one person counts once per request, in one stage. */
export interface AccessRequestVotesTable {
  request_id: string;
  approver_id: string;
  stage: number;
  comment: string | null;
  created_at: number;
}

export interface AccessRequestCommentsTable {
  id: string;
  request_id: string;
  author_id: string;
  body: string;
  created_at: number;
}

export interface OutboxEventsTable {
  /** The stable event id receivers use to drop duplicates. */
  id: string;
  type: string;
  request_id: string | null;
  template_id: string | null;
  payload: string;
  occurred_at: number;
}

export type DeliveryChannel = 'email' | 'slack' | 'webhook' | 'script' | 'trigger';
export type DeliveryStatus = 'pending' | 'running' | 'succeeded' | 'dead';

export interface DeliveriesTable {
  id: string;
  event_id: string;
  request_id: string | null;
  channel: DeliveryChannel;
  /** Where it goes: an email address, `action:<id>`, `trigger:<script id>` … */
  target: string;
  action_id: string | null;
  /** Deliveries with the same key go out in order (one request, one target). */
  ordering_key: string;
  status: DeliveryStatus;
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  /** A running delivery whose lease passed was abandoned by a crashed worker. */
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  at: number;
  ok: Flag;
  duration_ms: number;
  response_status: number | null;
  error: string | null;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  event_id: string;
  request_id: string | null;
  kind: string;
  title: string;
  body: string;
  read_at: number | null;
  created_at: number;
}

export interface RoundRobinPositionsTable {
  template_id: string;
  pool: string;
  position: number;
}

export interface ScriptsTable {
  id: string;
  name: string;
  description: string;
  source: string;
  /** JSON array of host names http.fetch may reach. */
  allowed_hosts: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface ScriptSecretsTable {
  id: string;
  name: string;
  value_encrypted: string;
  created_at: number;
  updated_at: number;
}

export interface ScriptSecretGrantsTable {
  script_id: string;
  secret_id: string;
}

export interface ScriptRunsTable {
  id: string;
  script_id: string;
  event_id: string | null;
  request_id: string | null;
  trigger_event: string;
  status: 'succeeded' | 'failed' | 'timed_out';
  duration_ms: number;
  /** JSON array of {level, message, at}. */
  logs: string;
  error: string | null;
  started_at: number;
}

export interface EventActionsTable {
  id: string;
  name: string;
  enabled: Flag;
  /** JSON array of event types. */
  event_types: string;
  template_id: string | null;
  kind: 'webhook' | 'slack' | 'email' | 'script';
  /** JSON: url, recipients, script_id … (never a secret). */
  config: string;
  /** The webhook signing secret or Slack URL, encrypted with the master key. */
  secret_encrypted: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** An API that clients may ask tokens for with a resource indicator (RFC 8707). */
export interface ResourceServersTable {
  id: string;
  /** The resource indicator, and the `aud` of the tokens issued for it. */
  audience: string;
  name: string;
  description: string;
  /** JSON array of the scopes the resource server accepts. */
  scopes: string;
  created_at: number;
  updated_at: number;
}

/** Which applications may ask tokens for a resource server. */
export interface ResourceServerAppsTable {
  resource_server_id: string;
  app_id: string;
}
