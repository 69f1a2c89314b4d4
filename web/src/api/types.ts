// Type-only: the server's template shapes are erased from the bundle, so zod and the server code stay out.
import type { CustomFieldDefinition, CustomFieldType } from '../../../src/modules/templates/custom-fields.ts';

/**
 * The API's shapes as the portal uses them (see /api/v1/openapi.json): people, sessions,
 * requests and what they show. What only the admin pages use is in admin-types.ts.
 */
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

/* slack: a Slack identity linked to the signed-in user, and what a link token would link */
export interface SlackLink {
  id: string;
  team_id: string;
  team_domain: string;
  slack_user_id: string;
  slack_user_name: string;
  created_at: string;
}
export type SlackLinkToken = Omit<SlackLink, 'id' | 'created_at'> & { expires_at: string };

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
  /** How this session signed in (RFC 8176 values). */
  amr?: string[];
  /** The MFA policy covers this user and they have no second factor: only enrolment is open. */
  mfa_enrolment_required?: boolean;
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

/** A claim value a mapping or grant gives. */
export type ClaimValue = string | string[] | boolean;

/** One of your command-line sign-ins (`interim login`), GET /api/v1/me/devices. */
export interface CliDevice {
  id: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  current: boolean;
}
