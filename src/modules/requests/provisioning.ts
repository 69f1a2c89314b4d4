import type { Tx } from '../../db/database.ts';
import { claimRows, lockRow } from '../../db/locks.ts';
import { AppError, conflict, notFound } from '../../http/errors.ts';
import { newId } from '../../security/ids.ts';
import { SYSTEM, type AuditActor } from '../../http/actor.ts';
import { scriptConfigFromPayload } from '../events/index.ts';
import type { TriggerRunner } from '../events/events.types.ts';
import type { Template } from '../templates/templates.types.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import { recheckApproval } from './approval-recheck.ts';
import { createVotesRepo } from './votes.repo.ts';
import { buildEventPayload } from './request-payload.ts';
import { recordRequestEvent, type RequestsCore } from './request-events.ts';
import { applyTransition, grantAccess, nextStatus } from './transitions.ts';

export interface ProvisioningSettings {
  runTrigger: TriggerRunner;
  /** How long a run may take once a sandbox worker has taken it (its time limit plus slack). */
  deadlineMs: number;
  /** How long a run may wait in the sandbox pool's queue before it starts. */
  queueAllowanceMs: number;
}

const MINUTE = 60_000;
const TIMED_OUT = 'the trigger task did not finish in time';

/**
 * Approval through a blocking trigger task (DESIGN rule 2's one exception): the request
 * waits in `provisioning` — where no other decision can be taken — while the task runs
 * outside any transaction. Then, with the request row locked, every guard the decision
 * needed is checked again: only if all still hold is access granted. Whenever the task
 * may have provisioned something that will not be granted (the re-check failed, the
 * request was retired or timed out meanwhile), `provisioning_reverted` goes through the
 * outbox to the same trigger, so the external system undoes it.
 */
export function createProvisioning(core: RequestsCore, deps: ProvisioningSettings) {
  const { db, clock, dialect } = core;

  /** In the locked transaction: tells the trigger to undo the run, and clears the "undo owed" mark. */
  async function emitRevert(trx: Tx, request: RequestRow, by: AuditActor, reason: string, scriptRunId: string | null) {
    if (request.provisioning_deadline !== null) {
      await trx.updateTable('access_requests').set({ provisioning_deadline: null }).where('id', '=', request.id).execute();
    }
    await recordRequestEvent(core, trx, {
      type: 'provisioning_reverted',
      requestId: request.id,
      actor: by,
      data: { reason, status: request.status, script_run_id: scriptRunId },
      request: { ...request, provisioning_deadline: null },
    });
  }

  /** The run started: its deadline counts from now, not from when it was queued. */
  function runStarted(request: RequestRow): void {
    void db
      .updateTable('access_requests')
      .set({ provisioning_deadline: clock.now() + deps.deadlineMs })
      .where('id', '=', request.id)
      .where('status', '=', 'provisioning')
      .where('provisioning_attempt', '=', request.provisioning_attempt)
      .execute()
      // If this write fails, the queue-time deadline stands: the worker may give up early, never late.
      .catch(() => undefined);
  }

  return {
    needsProvisioning: (template: Pick<Template, 'trigger'>) => template.trigger?.failure_mode === 'block',

    /** In the deciding transaction: pending → provisioning. */
    async begin(trx: Tx, request: RequestRow, by: AuditActor): Promise<RequestRow> {
      const deadline = clock.now() + deps.queueAllowanceMs + deps.deadlineMs;
      const patch = { status: nextStatus(request, 'begin_provisioning'), provisioning_deadline: deadline, provisioning_error: null, provisioning_attempt: newId(clock) };
      await applyTransition(core, trx, request, patch);
      await core.audit.append(trx, { actor: by, action: 'access_request.provisioning_started', targetType: 'access_request', targetId: request.id, requestId: request.id });
      return { ...request, ...patch };
    },

    /**
     * After `begin` committed: runs the task, then grants, returns the request to
     * pending, or ends it. With `throwOnFailure` (a person approving) it throws 502
     * `provisioning_failed` with the task's error, and 409 when the approval was undone;
     * without, it returns the request as it now stands.
     */
    async finish(request: RequestRow, template: Template, by: { actor: AuditActor; auto: boolean; comment: string | null }, throwOnFailure: boolean): Promise<RequestRow> {
      const now = clock.now();
      const preview = await buildEventPayload(core, db, {
        type: 'access_request.approved',
        request: { ...request, status: 'approved', approved_at: now, expires_at: now + request.duration_mins * MINUTE },
        actor: by.actor,
        data: {},
      });
      const outcome = await deps.runTrigger(template.trigger!.script_id, {
        eventId: null,
        requestId: request.id,
        triggerEvent: 'approved',
        config: scriptConfigFromPayload(preview),
        onStart: () => runStarted(request),
      });
      const runId = outcome.id ?? null;
      const error = outcome.status === 'succeeded' ? null : (outcome.error ?? outcome.status);
      const settled = await db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'access_requests', 'id', request.id);
        const current = await createRequestsRepo(trx).findById(request.id);
        if (!current) throw notFound('access request');
        if (current.provisioning_attempt !== request.provisioning_attempt) {
          // A later approval took over after this run timed out; its own run decides, and
          // an undo from here would take away what that one provisioned.
          return { lost: current.status, row: current };
        }
        if (current.status !== 'provisioning') {
          // Retired or timed out while the task ran: whatever it provisioned (even a failed run may have done part) must go.
          await emitRevert(trx, current, by.actor, `the request became ${current.status} while the trigger task ran`, runId);
          return { lost: current.status, row: { ...current, provisioning_deadline: null } };
        }
        if (error === null) {
          const broken = await recheckApproval(trx, current, by.actor, clock.now());
          if (!broken) return { row: { ...current, ...(await grantAccess(core, trx, current, by, 'provisioned')) } };
          const patch = broken.approverOnly
            ? { status: nextStatus(current, 'approver_lost'), provisioning_deadline: null, provisioning_error: broken.reason }
            : {
                status: nextStatus(current, 'provisioning_invalidated'),
                provisioning_deadline: null,
                provisioning_error: broken.reason,
                ended_at: clock.now(),
                end_reason: 'reverted' as const,
                ended_by: null,
              };
          await applyTransition(core, trx, current, patch);
          // Approvals that no longer stand stop counting, so the stage waits for others.
          if (broken.approverOnly) await createVotesRepo(trx).remove(current.id, broken.lostVoters ?? []);
          const after = { ...current, ...patch };
          await emitRevert(trx, after, by.actor, broken.reason, runId);
          return { reverted: after.status, reason: broken.reason, row: { ...after, provisioning_deadline: null } };
        }
        await applyTransition(core, trx, current, { status: nextStatus(current, 'provisioning_failed'), provisioning_deadline: null, provisioning_error: error });
        await core.audit.append(trx, {
          actor: by.actor,
          action: 'access_request.provisioning_failed',
          targetType: 'access_request',
          targetId: request.id,
          requestId: request.id,
          data: { error, script_run_id: runId },
        });
        return { row: { ...current, status: 'pending' as const, provisioning_error: error } };
      });
      // An auto-approval's submitter (no throwOnFailure) gets the request as it now stands.
      if ('lost' in settled && throwOnFailure) throw conflict('request_changed', `the provisioning window passed; the request is now ${settled.lost}`);
      if ('reverted' in settled && throwOnFailure) {
        throw conflict('provisioning_reverted', `nothing was granted, because ${settled.reason}; the request is now ${settled.reverted}`, { request_status: settled.reverted });
      }
      if (error !== null && throwOnFailure) {
        throw new AppError(502, 'provisioning_failed', `the trigger task failed, so nothing was granted: ${error}`, { script_run_id: runId });
      }
      return settled.row;
    },

    /**
     * Worker task: provisioning requests past their deadline go back to pending, and
     * requests retired while their task ran whose run never reported back (a crash) get
     * the undo they are owed. Both tell the trigger to undo what the run provisioned.
     */
    async returnStuck(): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const stuck = await claimRows(
          trx.selectFrom('access_requests').selectAll().where('provisioning_deadline', 'is not', null).where('provisioning_deadline', '<=', clock.now()).orderBy('provisioning_deadline').limit(100),
          dialect,
        ).execute();
        for (const request of stuck) {
          if (request.status !== 'provisioning') {
            await emitRevert(trx, request, SYSTEM, request.provisioning_error ?? TIMED_OUT, null);
            continue;
          }
          const patch = { status: nextStatus(request, 'provisioning_timed_out'), provisioning_deadline: null, provisioning_error: TIMED_OUT };
          await applyTransition(core, trx, request, patch);
          await core.audit.append(trx, { actor: SYSTEM, action: 'access_request.provisioning_timed_out', targetType: 'access_request', targetId: request.id, requestId: request.id });
          await emitRevert(trx, { ...request, ...patch }, SYSTEM, TIMED_OUT, null);
        }
        return stuck.length;
      });
    },
  };
}
export type Provisioning = ReturnType<typeof createProvisioning>;
