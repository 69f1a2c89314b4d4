import { REQUEST_EVENT_TYPES, type RequestEventName } from '../../../src/modules/event-payload/event-payload.types.ts';
import type { ApprovalMode, TemplateSettings, TemplateTrigger, TemplateWarning } from '../../../src/modules/templates/templates.types.ts';
import type { ClaimValue } from './types.ts';

/** The API's shapes that only the admin pages use: directory, applications, templates, automation, audit, insights. */

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

/* slack: the Slack app settings (secrets are write-only) */
export interface SlackSettings {
  configured: boolean;
  updated_at: string | null;
  interactivity_url: string;
  api_url: string;
}

export type EventActionKind = 'webhook' | 'slack' | 'slack_app' | 'email' | 'script';
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
    | { kind: 'slack_app'; config: { channel: string } }
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
