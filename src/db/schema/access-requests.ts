import type { ColumnType, Generated } from 'kysely';
import type { Flag } from './flag.ts';

/** Access-request templates (with their stages, groups and mappings), requests, votes, comments and break-glass reviews. */

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
  /** Approvers may decide several pending requests of this template at once. */
  allow_bulk_decisions: Generated<Flag>;
  /** Approvers (and break-glass users) confirm each decision with a second factor checked within this many minutes; null: off. */
  step_up_minutes: number | null;
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
