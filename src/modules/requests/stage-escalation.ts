import type { Tx } from '../../db/database.ts';
import { claimRows } from '../../db/locks.ts';
import { recordRequestEvent, type RequestsCore } from './request-events.ts';
import type { RequestRow } from './requests.repo.ts';

const BATCH = 200;

/**
 * Escalation of approval stages 2..n. Escalation state is per (request, stage): a stage
 * advance resets the request's `escalated` flag and sets `stage_escalate_at` from the
 * new stage's escalation_after_mins, and the conditional update names the stage, so each
 * stage escalates at most once even with several workers (rows claimed with SKIP LOCKED).
 */
export async function escalateLaterStages(core: RequestsCore): Promise<number> {
  const now = core.clock.now();
  return core.db.transaction().execute(async (trx) => {
    const due = await claimRows(
      trx
        .selectFrom('access_requests')
        .selectAll()
        .where('status', '=', 'pending')
        .where('escalated', '=', 0)
        .where('current_stage', '>', 1)
        .where('stage_escalate_at', 'is not', null)
        .where('stage_escalate_at', '<=', now)
        .orderBy('stage_escalate_at')
        .limit(BATCH),
      core.dialect,
    ).execute();
    return markEscalated(core, trx, due, now);
  });
}

/**
 * Escalates each claimed request with a conditional update on its status, flag and stage
 * (a decision or another worker that got there first makes it miss) and records
 * `escalated` (`data.stage` for stages 2..n). Returns how many escalated.
 */
export async function markEscalated(core: RequestsCore, trx: Tx, due: readonly RequestRow[], now: number): Promise<number> {
  let escalated = 0;
  for (const request of due) {
    const result = await trx
      .updateTable('access_requests')
      .set({ escalated: 1, escalated_at: now, updated_at: now })
      .where('id', '=', request.id)
      .where('status', '=', 'pending')
      .where('escalated', '=', 0)
      .where('current_stage', '=', request.current_stage)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) continue;
    await recordRequestEvent(core, trx, {
      type: 'escalated',
      requestId: request.id,
      actor: 'system',
      data: request.current_stage > 1 ? { stage: request.current_stage } : {},
      request: { ...request, escalated: 1, escalated_at: now, updated_at: now },
    });
    escalated++;
  }
  return escalated;
}
