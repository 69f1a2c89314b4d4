import { REQUEST_EVENT_TYPES, type RequestEventName } from '../../../src/modules/event-payload/event-payload.types.ts';
// Type-only: the server's template shapes are erased from the bundle, so zod and the server code stay out.
import type { CustomFieldDefinition, CustomFieldType } from '../../../src/modules/templates/custom-fields.ts';
import type { ApprovalMode, TemplateSettings, TemplateTrigger, TemplateWarning } from '../../../src/modules/templates/templates.types.ts';

/** The API's shapes as the portal uses them (see /api/v1/openapi.json). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface User {
  id: string;
  email: string;
  name: string;
  is_admin: boolean;
  disabled: boolean;
  must_change_password: boolean;
  /** The zone the portal shows times in (IANA name); null: the browser's. */
  time_zone: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApiToken {
  id: string;
  user_id: string;
  user_email: string;
  name: string;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface CreatedApiToken extends ApiToken {
  /** Shown once, at creation. */
  token: string;
}

/** Longest API token lifetimes in days; null: no limit. */
export interface ApiTokenPolicy {
  max_lifetime_days: number | null;
  admin_max_lifetime_days: number | null;
}

export interface Session {
  user: User;
  csrf_token: string;
  /** The server's clock when it answered: the portal's "now" (lib/time.ts). */
  server_time: string;
}

export interface Person {
  id: string;
  email: string;
  name: string;
}

export type { CustomFieldType };
export type CustomField = CustomFieldDefinition;

export interface Requestable {
  id: string;
  version: number;
  name: string;
  description: string;
  app: { id: string; name: string };
  allowed_durations: number[];
  require_justification: boolean;
  custom_fields: CustomField[];
  auto_approve: boolean;
  open: boolean;
  approver_groups: { id: string; name: string }[];
  escalation_after_mins: number | null;
  escalation_group: { id: string; name: string } | null;
  pending_ttl_mins: number | null;
  break_glass: boolean;
  break_glass_max_mins: number | null;
  stages: StageInfo[];
  /** How far ahead (minutes) the start may be scheduled; null or 0: not at all. */
  max_start_delay_mins: number | null;
  /** The caller's pending request, or active or scheduled access, from this template (issue 14 §1). */
  mine: MyTemplateState | null;
}

export interface MyTemplateState {
  state: 'pending' | 'active' | 'scheduled';
  request_id: string;
  starts_at: string | null;
  expires_at: string | null;
  seconds_left: number | null;
}

/** One approval stage as a requester sees it (template view and request view). */
export interface StageInfo {
  position: number;
  open: boolean;
  approver_groups: { id: string; name: string }[];
  quorum: number;
  escalation_after_mins: number | null;
  escalation_group: { id: string; name: string } | null;
}

export type RequestStatus = 'pending' | 'provisioning' | 'approved' | 'denied' | 'cancelled' | 'expired' | 'revoked' | 'lapsed' | 'extended';

/** A break-glass grant's after-the-fact review. */
export interface BreakGlassReview {
  review_state: 'unreviewed' | 'reviewed' | 'revoked';
  activated_at: string;
  review_due_at: string;
  review_overdue: boolean;
  reviewed_by: Person | null;
  reviewed_at: string | null;
  review_comment: string | null;
}
export type FieldAnswer = string | boolean;

export interface AccessRequest {
  id: string;
  template_id: string;
  template_name: string;
  template_version: number;
  app: { id: string; name: string };
  requester: Person;
  status: RequestStatus;
  /** `extension`: a request for more time on the grant `parent_id`. */
  kind: 'request' | 'extension';
  parent_id: string | null;
  duration_mins: number;
  justification: string;
  fields: Record<string, FieldAnswer>;
  /** The custom fields' labels as the requester saw them. */
  field_labels: Record<string, string>;
  grants: { mapping_id: string; claim: string; value: string | string[] | boolean }[];
  notified_approvers: Person[];
  escalated: boolean;
  escalated_at: string | null;
  decided_by: Person | null;
  decided_at: string | null;
  decision_comment: string | null;
  approved_at: string | null;
  expires_at: string | null;
  /** The scheduled start; null: at approval. */
  starts_at: string | null;
  activated_at: string | null;
  /** Approved, waiting for its start. */
  scheduled: boolean;
  seconds_left: number | null;
  ended_at: string | null;
  end_reason: 'automatic' | 'manual' | 'reverted' | null;
  ended_by: Person | null;
  revoke_reason: string | null;
  provisioning_error: string | null;
  lapses_at: string | null;
  break_glass: BreakGlassReview | null;
  current_stage: number;
  stage_count: number;
  stages: StageInfo[];
  approvals: { stage: number; approver: Person; comment: string | null; at: string }[];
  created_at: string;
  updated_at: string;
}

export interface Comment {
  id: string;
  author: Person;
  body: string;
  created_at: string;
}

export interface AccessRequestDetail extends AccessRequest {
  requester_groups: { id: string; name: string; expires_at: string | null }[];
  comments: Comment[];
  can_decide: boolean;
  can_revoke: boolean;
  can_review: boolean;
  /** Set on the requester's own active grant when its template allows extending it. */
  extension: { durations: number[]; requires_approval: boolean; max_total_mins: number | null; remaining_mins: number | null; open_extension_id: string | null } | null;
  can_cancel: boolean;
  /** The request's whole story, oldest first (time and people, issue 14 §3). */
  timeline: TimelineEntry[];
  /** The caller may read what the requester already holds (GET /access-requests/{id}/requester-access). */
  can_see_requester_access: boolean;
}

/* time and people (issue 14 §3) */
export interface TimelineRecipient {
  person: Person | null;
  address: string | null;
  channels: ('in_app' | 'email' | 'slack')[];
}

/** One step of a request's story (src/modules/requests/timeline.ts). */
export interface TimelineEntry {
  kind: string;
  at: string;
  actor: Person | null;
  comment: string | null;
  reason: string | null;
  stage: number | null;
  duration_mins: number | null;
  expires_at: string | null;
  auto: boolean;
  extension_id: string | null;
  cause: string | null;
  recipients: TimelineRecipient[];
}

/** What a request's requester already holds for its application (src/modules/requests/requester-access.ts). */
export interface RequesterAccess {
  app: { id: string; name: string };
  grants: { request_id: string; template_id: string; template_name: string; scheduled: boolean; starts_at: string | null; expires_at: string | null; seconds_left: number | null; grants: { claim: string; value: ClaimValue }[] }[];
  standing: { group: { id: string; name: string }; claims: { claim: string; value: ClaimValue }[] }[];
  other_active_grants: number;
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  body: string;
  request_id: string | null;
  event_id: string;
  read: boolean;
  read_at: string | null;
  created_at: string;
}

export interface NotificationPage extends Page<Notification> {
  unread_count: number;
}

export interface Group {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  /** Live members who are active users; on list items only. */
  member_count?: number;
}

export interface Member {
  user_id: string;
  email: string;
  name: string;
  expires_at: string | null;
  created_at: string;
}

export interface UserGroup {
  group_id: string;
  name: string;
  description: string;
  system: boolean;
  expires_at: string | null;
  /** For a temporary grant: the request it came from and what it grants, by name. */
  grant: { request_id: string; template_id: string; template_name: string; application_id: string; application_name: string } | null;
}

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256';

export interface Application {
  id: string;
  client_id: string;
  name: string;
  description: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: GrantType[];
  token_endpoint_auth_method: AuthMethod;
  id_token_signed_response_alg: SigningAlg;
  access_token_ttl_secs: number;
  id_token_ttl_secs: number;
  refresh_token_ttl_secs: number;
  first_party: boolean;
  /** OpenID Connect Back-Channel Logout: where logout tokens go (null: none); whether each carries `sid`. */
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  created_at: string;
  updated_at: string;
  /** Only in the response that created or rotated it. */
  client_secret?: string;
}

export type ClaimValue = string | string[] | boolean;
export interface Mapping {
  id: string;
  app_id: string;
  claim: string;
  value: ClaimValue;
  group_ids: string[];
  description: string;
  created_at: string;
  updated_at: string;
}

export type { ApprovalMode, TemplateSettings, TemplateWarning };
export type NotificationPolicy = TemplateSettings['notification_policy'];
export type Trigger = TemplateTrigger;
export type FailureMode = Trigger['failure_mode'];

export interface Template extends Omit<TemplateSettings, 'stages'> {
  id: string;
  /** null when the template has several stages (the flat attributes are then empty). */
  approval: ApprovalMode | null;
  stages: (TemplateSettings['stages'][number] & { position: number })[];
  warnings: TemplateWarning[];
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Script {
  id: string;
  name: string;
  description: string;
  source: string;
  allowed_hosts: string[];
  secret_ids: string[];
  created_at: string;
  updated_at: string;
}

export interface ScriptRun {
  id: string;
  script_id: string;
  event_id: string | null;
  request_id: string | null;
  trigger_event: string;
  status: 'succeeded' | 'failed' | 'timed_out';
  duration_ms: number;
  logs: { level: 'info' | 'warn' | 'error'; message: string; at: string }[];
  error: string | null;
  started_at: string;
}

// The server's own list: event-payload.types.ts imports nothing, so only the constant enters the bundle.
export const EVENT_TYPES = REQUEST_EVENT_TYPES;
export type EventType = RequestEventName;

export type EventActionKind = 'webhook' | 'slack' | 'email' | 'script';
interface EventActionBase {
  id: string;
  name: string;
  enabled: boolean;
  event_types: EventType[];
  template_id: string | null;
  created_at: string;
  updated_at: string;
  signing_secret?: string;
}
export type EventAction = EventActionBase &
  (
    | { kind: 'webhook'; config: { url: string } }
    | { kind: 'slack'; config: { webhook_url_set: boolean; webhook_url_host: string } }
    | { kind: 'email'; config: { recipients: 'requester' | 'approvers' | 'addresses'; addresses?: string[] } }
    | { kind: 'script'; config: { script_id: string } }
  );

export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  request_id: string | null;
  channel: 'email' | 'slack' | 'webhook' | 'script' | 'trigger';
  target: string;
  action_id: string | null;
  status: 'pending' | 'running' | 'succeeded' | 'dead';
  attempts: number;
  max_attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  completed_at: string | null;
  recent_attempts: { at: string; ok: boolean; duration_ms: number; response_status: number | null; error: string | null }[];
}

export interface AuditEvent {
  seq: number;
  id: string;
  at: string;
  actor_type: 'user' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** An audit event as the audit list shows it: its actor and target named (a thing gone is named by its id with "(deleted)"). */
export interface NamedAuditEvent extends AuditEvent {
  actor: { id: string; email: string; name: string; deleted: boolean } | null;
  target: { type: string; id: string; name: string; deleted: boolean } | null;
}

/** One message of GET /api/v1/live. */
export interface LiveEvent {
  type: string;
  request_id: string | null;
}

/* approver speed (issue 14 §4) */
/** An inbox row: the request, and whether its template allows bulk decisions. */
export interface InboxItem extends AccessRequest {
  allow_bulk_decisions: boolean;
}

/** One item of POST /access-requests/bulk-decisions or /bulk-revoke. */
export interface BulkItemResult {
  request_id: string;
  outcome: 'approved' | 'denied' | 'revoked' | 'refused';
  status?: RequestStatus;
  error?: { code: string; detail: string };
}

/* Insights (issue 14 §6): GET /api/v1/insights */
export interface InsightsSummary {
  requests: number;
  approved: number;
  denied: number;
  approval_rate: number | null;
  decision_median_secs: number | null;
  decision_p90_secs: number | null;
  escalations: number;
  lapsed: number;
  grants: number;
  never_used: number;
  first_use_median_secs: number | null;
  used_secs: number;
  unused_secs: number;
}

export interface Insights {
  from: string;
  to: string;
  template_id: string | null;
  rubber_stamp_secs: number;
  usage_precision_secs: number;
  overall: InsightsSummary;
  templates: Array<InsightsSummary & { template_id: string; template_name: string }>;
  grants: Array<{
    request_id: string;
    template_id: string;
    template_name: string;
    requester_id: string;
    requester_email: string | null;
    activated_at: string;
    ends_at: string | null;
    first_used_at: string | null;
    last_used_at: string | null;
    time_to_first_use_secs: number | null;
    granted_secs: number | null;
    used_secs: number;
    used_share: number | null;
  }>;
  approvers: Array<{
    approver_id: string;
    email: string | null;
    name: string | null;
    decisions: number;
    approvals: number;
    denials: number;
    median_decide_secs: number | null;
    approvals_without_comment: number;
    rubber_stamps: number;
  }>;
  standing: Array<{ template_id: string; template_name: string; claim: string; value: string; group_id: string; group_name: string; user_id: string; user_email: string }>;
}
