import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { claimRows, lockRow } from '../../db/locks.ts';
import { AppError, conflict } from '../../http/errors.ts';
import { SYSTEM, type AuditActor } from '../auth/actor.ts';
import { buildEventPayload } from '../events/outbox.ts';
import { scriptConfigFromPayload } from '../events/script-config.ts';
import type { Template } from '../templates/templates.types.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import { applyTransition, grantAccess, nextStatus } from './transitions.ts';

export interface TriggerOutcome {
  status: 'succeeded' | 'failed' | 'timed_out';
  error: string | null;
  id?: string;
}

/** Runs a trigger task now and records the run (the scripts module's runScript). */
export type TriggerRunner = (
  scriptId: string,
  run: { eventId: string | null; requestId: string; triggerEvent: string; config: Record<string, string> },
) => Promise<TriggerOutcome>;

const MINUTE = 60_000;

/**
 * Approval through a blocking trigger task (DESIGN rule 2's one exception): the request
 * waits in `provisioning` — where no other decision can be taken — while the task runs
 * outside any transaction; then access is granted, or the request returns to `pending`
 * with the task's error for the approver. A request stuck past its deadline (a crash
 * mid-run) is returned to `pending` by the worker.
 */
export function createProvisioning(core: Core, deps: { runTrigger: TriggerRunner; deadlineMs: number }) {
  const { db, clock, dialect } = core;

  return {
    needsProvisioning: (template: Pick<Template, 'trigger'>) => template.trigger?.failure_mode === 'block',

    /** In the deciding transaction: pending → provisioning. */
    async begin(trx: Tx, request: RequestRow, by: AuditActor): Promise<RequestRow> {
      const patch = { status: nextStatus(request, 'begin_provisioning'), provisioning_deadline: clock.now() + deps.deadlineMs, provisioning_error: null };
      await applyTransition(core, trx, request, patch);
      await core.audit.append(trx, { actor: by, action: 'access_request.provisioning_started', targetType: 'access_request', targetId: request.id, requestId: request.id });
      return { ...request, ...patch };
    },

    /**
     * After `begin` committed: runs the task, then grants or returns the request to
     * pending. Throws 502 `provisioning_failed` with the task's error when `throwOnFailure`.
     */
    async finish(request: RequestRow, template: Template, by: { actor: AuditActor; auto: boolean; comment: string | null }, throwOnFailure: boolean): Promise<RequestRow> {
      const now = clock.now();
      const preview = await buildEventPayload(core, db, {
        type: 'access_request.approved',
        request: { ...request, status: 'approved', approved_at: now, expires_at: now + request.duration_mins * MINUTE },
        actor: by.actor,
        data: {},
      });
      const outcome = await deps.runTrigger(template.trigger!.script_id, { eventId: null, requestId: request.id, triggerEvent: 'approved', config: scriptConfigFromPayload(preview) });
      const error = outcome.status === 'succeeded' ? null : (outcome.error ?? outcome.status);
      const settled = await db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'access_requests', 'id', request.id);
        const current = await createRequestsRepo(trx).findById(request.id);
        if (!current || current.status !== 'provisioning') return { lost: current?.status ?? 'gone' };
        if (error === null) return { row: { ...current, ...(await grantAccess(core, trx, current, by, 'provisioned')) } };
        await applyTransition(core, trx, current, { status: nextStatus(current, 'provisioning_failed'), provisioning_deadline: null, provisioning_error: error });
        await core.audit.append(trx, {
          actor: by.actor,
          action: 'access_request.provisioning_failed',
          targetType: 'access_request',
          targetId: request.id,
          requestId: request.id,
          data: { error, script_run_id: outcome.id ?? null },
        });
        return { row: { ...current, status: 'pending' as const, provisioning_error: error } };
      });
      if ('lost' in settled) throw conflict('request_changed', `the provisioning window passed; the request is now ${settled.lost}`);
      if (error !== null && throwOnFailure) {
        throw new AppError(502, 'provisioning_failed', `the trigger task failed, so nothing was granted: ${error}`, { script_run_id: outcome.id ?? null });
      }
      return settled.row;
    },

    /** Worker task: provisioning requests past their deadline go back to pending. */
    async returnStuck(): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const stuck = await claimRows(
          trx.selectFrom('access_requests').selectAll().where('status', '=', 'provisioning').where('provisioning_deadline', '<=', clock.now()).limit(100),
          dialect,
        ).execute();
        for (const request of stuck) {
          await applyTransition(core, trx, request, {
            status: nextStatus(request, 'provisioning_timed_out'),
            provisioning_deadline: null,
            provisioning_error: 'the trigger task did not finish in time',
          });
          await core.audit.append(trx, { actor: SYSTEM, action: 'access_request.provisioning_timed_out', targetType: 'access_request', targetId: request.id, requestId: request.id });
        }
        return stuck.length;
      });
    },
  };
}
export type Provisioning = ReturnType<typeof createProvisioning>;
