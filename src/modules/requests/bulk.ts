import { z } from 'zod';
import type { Actor } from '../../http/actor.ts';
import { AppError } from '../../http/errors.ts';
import type { RequestRow } from './requests.repo.ts';
import type { RequestsService } from './requests.service.ts';
import type { DecisionVia } from './requests.service.ts';
import { decisionIn, requestOut, revokeIn, stepUpField } from './requests.types.ts';

/**
 * Bulk decisions and bulk revocation (issue 14 §4). A bulk call is nothing but the single
 * calls one after another: each item runs through the very service function a single
 * decision or revocation uses (its own transaction, the request row locked, stages and
 * quorum, eligibility, the self-approval ban, signals and logout after a revocation), and
 * answers for itself. One item's refusal never undoes or stops another.
 */

/** At most this many requests in one bulk call: a page of the inbox, and a bounded transaction count. */
export const MAX_BULK_ITEMS = 50;

const requestIds = z
  .array(z.uuid())
  .min(1, 'must list at least one request')
  .max(MAX_BULK_ITEMS, `must list at most ${MAX_BULK_ITEMS} requests`)
  .refine((ids) => new Set(ids).size === ids.length, 'must not list the same request twice')
  .describe(`the requests, 1 to ${MAX_BULK_ITEMS} distinct ids; they are handled in this order`);

export const bulkDecisionIn = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  comment: decisionIn.shape.comment.describe('one comment recorded on every decision'),
  request_ids: requestIds,
  step_up: stepUpField.describe('the id of a verified step-up proof for action bulk_decision whose target is the hash of request_ids in this order (listHashOf); needed when any listed template asks for step-up, one proof for the whole list'),
});
export type BulkDecisionIn = z.infer<typeof bulkDecisionIn>;

export const bulkRevokeIn = z.strictObject({
  reason: revokeIn.shape.reason.describe('one reason recorded on every revocation'),
  request_ids: requestIds,
  step_up: stepUpField.describe('the id of a verified step-up proof for action bulk_revoke whose target is the hash of request_ids in this order; needed when any listed template asks for step-up'),
});
export type BulkRevokeIn = z.infer<typeof bulkRevokeIn>;

const refusalOut = z.object({ code: z.string(), detail: z.string() });

const resultOf = <T extends readonly [string, ...string[]]>(outcomes: T) =>
  z.object({
    results: z
      .array(
        z.object({
          request_id: z.uuid(),
          outcome: z.enum(outcomes),
          status: requestOut.shape.status.optional().describe("the request's status after this item (left out when refused)"),
          error: refusalOut.optional().describe('why this item was refused: the code and message the single call would have answered'),
        }),
      )
      .describe('one result per requested id, in the order given'),
  });

export const bulkDecisionOut = resultOf(['approved', 'denied', 'refused'] as const);
export const bulkRevokeOut = resultOf(['revoked', 'refused'] as const);
type BulkResult<O extends string> = { request_id: string; outcome: O | 'refused'; status?: RequestRow['status']; error?: z.infer<typeof refusalOut> };

/**
 * The one place a bulk call's work is fixed: the action and the explicit, ordered list of
 * requests it applies to, exactly as the caller sent and confirmed them. A later step-up
 * proof (issue 15) binds to a hash of this plan, so nothing past this point may add,
 * drop or reorder items.
 */
export interface BulkPlan<A> {
  action: A;
  requestIds: readonly string[];
}

export const decisionPlan = (input: BulkDecisionIn): BulkPlan<{ decision: 'approve' | 'deny'; comment?: string }> => ({
  action: { decision: input.decision, ...(input.comment === undefined ? {} : { comment: input.comment }) },
  requestIds: [...input.request_ids],
});

export const revokePlan = (input: BulkRevokeIn): BulkPlan<{ reason: string }> => ({ action: { reason: input.reason }, requestIds: [...input.request_ids] });

/** Runs `one` for each id in order; an AppError becomes that item's refusal, anything else is reported and refused without internals. */
async function eachItem<O extends string>(ids: readonly string[], done: O, one: (id: string) => Promise<RequestRow>, onUnexpected: (error: unknown) => void) {
  const results: BulkResult<O>[] = [];
  for (const id of ids) {
    try {
      const row = await one(id);
      results.push({ request_id: id, outcome: done, status: row.status });
    } catch (error) {
      if (!(error instanceof AppError)) onUnexpected(error);
      const refusal = error instanceof AppError ? { code: error.code, detail: error.message } : { code: 'internal_error', detail: 'an unexpected error; open the request to see its state' };
      results.push({ request_id: id, outcome: 'refused', error: refusal });
    }
  }
  return { results };
}

/** `bulkStepUp`: the call's one step-up proof, spent for the plan's list (RequestsService.spendBulkStepUp). */
export function runBulkDecision(requests: Pick<RequestsService, 'approve' | 'deny'>, actor: Actor, plan: ReturnType<typeof decisionPlan>, bulkStepUp: DecisionVia['bulkStepUp'], onUnexpected: (error: unknown) => void) {
  const { decision, comment } = plan.action;
  const via = { bulk: true, bulkStepUp };
  return decision === 'approve'
    ? eachItem(plan.requestIds, 'approved', (id) => requests.approve(actor, id, comment, via), onUnexpected)
    : eachItem(plan.requestIds, 'denied', (id) => requests.deny(actor, id, comment, via), onUnexpected);
}

export function runBulkRevoke(requests: Pick<RequestsService, 'revoke'>, actor: Actor, plan: ReturnType<typeof revokePlan>, bulkStepUp: DecisionVia['bulkStepUp'], onUnexpected: (error: unknown) => void) {
  return eachItem(plan.requestIds, 'revoked', (id) => requests.revoke(actor, id, plan.action.reason, { bulkStepUp }), onUnexpected);
}
