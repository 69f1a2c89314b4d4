import type { Tx } from '../../db/database.ts';
import { conflict } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';
import type { Template } from '../templates/templates.types.ts';
import { recordRequestEvent, type EventCore } from './request-events.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import { stageEscalatesAt, voteOutcome } from './stages.ts';
import { lostRace, nextStatus } from './transitions.ts';
import { createVotesRepo } from './votes.repo.ts';

export type ApprovalStep = { kind: 'recorded'; request: RequestRow } | { kind: 'advanced'; request: RequestRow } | { kind: 'final' };

/**
 * One approval, inside the deciding transaction, after the request row was locked and
 * the approver's right to decide its current stage checked (DESIGN: races in the new
 * workflows). The vote is inserted, the stage's approvals counted, and the request
 * either waits for more, moves to the next stage (a conditional update on status and
 * current stage, event `stage_approved`), or is ready for the final approval, which the
 * caller performs through the existing path (grant, or a blocking trigger task).
 *
 * An approver who already approved counts once: a second approval is 409
 * `already_approved`, unless the stage already has its quorum (a blocking trigger task
 * failed, and the request waits for the final step again), when it retries that step.
 */
export async function castApproval(core: EventCore, trx: Tx, request: RequestRow, template: Template, actor: Actor, comment: string | null): Promise<ApprovalStep> {
  nextStatus(request, 'approve');
  const votes = createVotesRepo(trx);
  const stage = request.current_stage;
  const mine = await votes.find(request.id, actor.userId);
  if (mine) {
    const counted = (await votes.ofStage(request.id, stage)).length;
    if (mine.stage !== stage || voteOutcome(template, stage, counted) === 'wait') {
      throw conflict('already_approved', 'you have already approved this request; one person counts once per request, in one stage', { stage: mine.stage });
    }
  } else {
    await votes.insert({ request_id: request.id, approver_id: actor.userId, stage, comment, created_at: core.clock.now() });
  }
  const approvals = await votes.ofStage(request.id, stage);
  const outcome = voteOutcome(template, stage, approvals.length);
  if (outcome === 'approve') return { kind: 'final' };
  if (outcome === 'wait') {
    const now = core.clock.now();
    // Bumping updated_at under the lock keeps the row's version honest for pollers and caches.
    await trx.updateTable('access_requests').set({ updated_at: now }).where('id', '=', request.id).execute();
    await core.audit.append(trx, {
      actor,
      action: 'access_request.approval_recorded',
      targetType: 'access_request',
      targetId: request.id,
      requestId: request.id,
      data: { stage, approvals: approvals.length, quorum: template.stages[Math.min(stage, template.stages.length) - 1]!.quorum, comment },
    });
    return { kind: 'recorded', request: { ...request, updated_at: now } };
  }
  nextStatus(request, 'advance_stage');
  const now = core.clock.now();
  const next = stage + 1;
  const patch = { current_stage: next, escalated: 0 as const, escalated_at: null, stage_escalate_at: stageEscalatesAt(template, next, now), updated_at: now };
  const moved = await createRequestsRepo(trx).advanceStage(request.id, stage, patch);
  if (!moved) throw lostRace();
  const after: RequestRow = { ...request, ...patch };
  await recordRequestEvent(core, trx, {
    type: 'stage_approved',
    requestId: request.id,
    actor,
    data: { stage, next_stage: next, approvals: approvals.map((v) => ({ approver_id: v.approver_id, stage: v.stage, comment: v.comment, at: new Date(v.created_at).toISOString() })) },
    request: after,
  });
  return { kind: 'advanced', request: after };
}
