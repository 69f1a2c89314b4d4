/**
 * The one shape every consumer of a lifecycle event receives: webhooks (as JSON),
 * Slack and email renderers, in-app notifications and scripts (via config keys).
 * It is frozen into the outbox row when the event is recorded.
 */
export const REQUEST_EVENT_TYPES = [
  'access_request.submitted',
  'access_request.approved',
  'access_request.denied',
  'access_request.cancelled',
  'access_request.escalated',
  'access_request.expiring_soon',
  'access_request.expired',
  'access_request.revoked',
  'access_request.comment_added',
  'access_request.provisioning_reverted',
  'access_request.lapsed',
  'access_request.break_glass_activated',
  'access_request.break_glass_reviewed',
  'access_request.break_glass_review_overdue',
  'access_request.stage_approved',
  'access_request.extension_requested',
  'access_request.extended',
  'access_request.extension_denied',
  'access_request.activated',
] as const;
export type RequestEventName = (typeof REQUEST_EVENT_TYPES)[number];

export interface PersonRef {
  id: string;
  email: string;
  name: string;
}

export interface EventPayload {
  /** Stable event id: receivers drop duplicates by it. */
  id: string;
  type: RequestEventName;
  occurred_at: string;
  actor: { type: 'user' | 'system'; id: string | null; email: string | null; name: string | null };
  request: {
    id: string;
    status: string;
    url: string;
    template_id: string;
    template_name: string;
    app: { id: string; name: string };
    requester: PersonRef;
    duration_mins: number;
    justification: string;
    fields: Record<string, string | boolean>;
    grants: { mapping_id: string; claim: string; value: string | string[] | boolean }[];
    approved_at: string | null;
    expires_at: string | null;
    /** When the access starts: the scheduled start, or the approval; the requested start while pending; null when none. */
    starts_at?: string | null;
    decision_comment: string | null;
    end_reason: 'automatic' | 'manual' | 'reverted' | null;
    revoke_reason: string | null;
    escalated: boolean;
  };
  /** Event-specific details, e.g. { auto: true } on approval or { body } on a comment. */
  data: Record<string, unknown>;
}
