import type { RequestStatus } from '../../db/schema.ts';

/**
 * The request lifecycle as a pure state machine: (status, event) → next status, or a
 * typed refusal. Services apply the result with a conditional update on the status they
 * read, so a concurrent change makes the update miss and the caller gets 409.
 *
 *   pending ──approve──────────────► approved ──expire──► expired
 *      │  └─begin_provisioning─► provisioning ─provisioned─┘  └──revoke──► revoked
 *      │                             ├─provisioning_failed / provisioning_timed_out / approver_lost─► pending
 *      │                             └─retire / provisioning_invalidated─► cancelled
 *      ├─advance_stage──► pending (the next approval stage; quorum reached, not the last stage)
 *      ├─deny──► denied
 *      ├─cancel / retire─► cancelled
 *      ├─lapse──► lapsed          (nobody decided within the template's pending_ttl_mins)
 *      └─break_glass──► approved  (the requester's own break-glass activation; reviewed afterwards, see BREAK_GLASS_REVIEW)
 *
 * Extension (a request row of kind `extension` pointing at an approved grant): the row is
 * decided like any request, and `extend` takes it from pending to `extended` (terminal)
 * while the parent's `extend` keeps it `approved` with a later `expires_at`. An extension
 * whose parent ends is `retire`d (cancelled).
 *
 * `escalate` keeps the status (escalation is a flag, not a state) and `comment` changes nothing.
 * Scheduled start (activation.ts): a grant approved for a later start is `approved` from
 * the approval on ("live" means scheduled or active); `activate` (its window opens, the
 * `activated` event) keeps the status, and `cancel_scheduled` (approved ──► cancelled) is the
 * requester withdrawing it, which the service allows only before the window opens.
 * `retire`: something the request stands on (template, requester, application, mapping)
 * was disabled or deleted. `approver_lost` and `provisioning_invalidated`: the re-check
 * that ends a blocking trigger task found the approver no longer eligible (the request
 * waits for another approver) or anything else gone (it ends).
 */
export const REQUEST_EVENTS = [
  'approve',
  'advance_stage',
  'begin_provisioning',
  'provisioned',
  'provisioning_failed',
  'provisioning_timed_out',
  'approver_lost',
  'provisioning_invalidated',
  'retire',
  'deny',
  'cancel',
  'escalate',
  'expire',
  'revoke',
  'comment',
  'lapse',
  'break_glass',
  'extend',
  'activate',
  'cancel_scheduled',
] as const;
export type RequestEvent = (typeof REQUEST_EVENTS)[number];

export const REQUEST_STATUSES = ['pending', 'provisioning', 'approved', 'denied', 'cancelled', 'expired', 'revoked', 'lapsed', 'extended'] as const satisfies readonly RequestStatus[];

/** States in which a request is still waiting for a decision; one per (template, requester). */
export const OPEN_STATUSES: readonly RequestStatus[] = ['pending', 'provisioning'];
export const ENDED_STATUSES: readonly RequestStatus[] = ['denied', 'cancelled', 'expired', 'revoked', 'lapsed', 'extended'];

const TRANSITIONS: Record<RequestStatus, Partial<Record<RequestEvent, RequestStatus>>> = {
  pending: {
    approve: 'approved',
    advance_stage: 'pending',
    begin_provisioning: 'provisioning',
    deny: 'denied',
    cancel: 'cancelled',
    retire: 'cancelled',
    escalate: 'pending',
    comment: 'pending',
    lapse: 'lapsed',
    break_glass: 'approved',
    extend: 'extended',
  },
  provisioning: {
    provisioned: 'approved',
    provisioning_failed: 'pending',
    provisioning_timed_out: 'pending',
    approver_lost: 'pending',
    provisioning_invalidated: 'cancelled',
    retire: 'cancelled',
    comment: 'provisioning',
  },
  approved: { expire: 'expired', revoke: 'revoked', comment: 'approved', extend: 'approved', activate: 'approved', cancel_scheduled: 'cancelled' },
  denied: {},
  cancelled: {},
  expired: {},
  revoked: {},
  lapsed: {},
  extended: {},
};

export interface TransitionRefused {
  refused: true;
  code: 'request_not_pending' | 'request_not_active' | 'request_busy' | 'request_closed' | 'invalid_transition';
  detail: string;
}

export function transition(from: RequestStatus, event: RequestEvent): RequestStatus | TransitionRefused {
  const next = TRANSITIONS[from][event];
  if (next) return next;
  return { refused: true, ...refusal(from, event) };
}

export function isRefused(result: RequestStatus | TransitionRefused): result is TransitionRefused {
  return typeof result === 'object';
}

function refusal(from: RequestStatus, event: RequestEvent): Omit<TransitionRefused, 'refused'> {
  if (event === 'lapse' || event === 'break_glass') return { code: 'request_not_pending', detail: `the request is ${from}, not pending` };
  if (from === 'provisioning' && ['approve', 'advance_stage', 'deny', 'cancel', 'escalate', 'begin_provisioning'].includes(event)) {
    return { code: 'request_busy', detail: 'the approval is being provisioned; try again when it finishes' };
  }
  if (['approve', 'advance_stage', 'deny', 'cancel', 'retire', 'escalate', 'begin_provisioning'].includes(event)) {
    return { code: 'request_not_pending', detail: `the request is ${from}, not pending` };
  }
  if (['expire', 'revoke', 'extend', 'activate', 'cancel_scheduled'].includes(event)) return { code: 'request_not_active', detail: `the request is ${from}, not approved` };
  if (event === 'comment') return { code: 'request_closed', detail: `the request is ${from}; its discussion is closed` };
  return { code: 'invalid_transition', detail: `${event} does not apply to a ${from} request` };
}

/**
 * A break-glass grant's after-the-fact review, beside the request's status (as `escalated`
 * is a flag beside it): `unreviewed` until an approver says `reviewed` (with a comment) or
 * `revoked` (which also ends the grant if it is still live). Either is final. Being overdue
 * is a flag too (the reminder goes out once), not a state.
 */
export const BREAK_GLASS_REVIEW_STATES = ['unreviewed', 'reviewed', 'revoked'] as const;
export type BreakGlassReviewState = (typeof BREAK_GLASS_REVIEW_STATES)[number];
export const BREAK_GLASS_REVIEW_OUTCOMES = ['reviewed', 'revoked'] as const;
export type BreakGlassReviewOutcome = (typeof BREAK_GLASS_REVIEW_OUTCOMES)[number];

const BREAK_GLASS_REVIEW: Record<BreakGlassReviewState, Partial<Record<BreakGlassReviewOutcome, BreakGlassReviewState>>> = {
  unreviewed: { reviewed: 'reviewed', revoked: 'revoked' },
  reviewed: {},
  revoked: {},
};

export interface ReviewRefused {
  refused: true;
  code: 'already_reviewed';
  detail: string;
}

export function reviewTransition(from: BreakGlassReviewState, outcome: BreakGlassReviewOutcome): BreakGlassReviewState | ReviewRefused {
  return BREAK_GLASS_REVIEW[from][outcome] ?? { refused: true, code: 'already_reviewed', detail: `this break-glass grant was already ${from}` };
}
