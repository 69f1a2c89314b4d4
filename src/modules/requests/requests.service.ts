import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Executor, Tx } from '../../db/database.ts';
import { isUniqueViolation, lockRow } from '../../db/locks.ts';
import { AppError, assertThat, badRequest, conflict, forbidden, notFound, tooManyRequests, type FieldError } from '../../http/errors.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import { validateFieldAnswers } from '../templates/index.ts';
import { liveGroupIdsOf, mayDecide, mayRevoke, mayView } from './eligibility.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import { lockUser } from '../users/users.repo.ts';
import { newEventBatchCache, recordRequestEvent, type RequestsCore } from './request-events.ts';
import { createRequestsRepo, newRequestRow, type RequestRow } from './requests.repo.ts';
import type { SubmitRequestIn } from './requests.types.ts';
import { snapshotStillHolds, takeSnapshot, type RequestSnapshot } from './snapshot.ts';
import { castApproval } from './stage-decisions.ts';
import type { Provisioning } from './provisioning.ts';
import { listHashOf, type StepUpBinding, type StepUpUse } from '../step-up/index.ts';
import { assertBulkStepUpFresh, OFFERED_STEP_UP_MINUTES, requireStepUp, withStepUp, type DecisionAssurance } from './decision-step-up.ts';
import { cancelScheduled, startTimeErrors } from './activation.ts';
import { applyTransition, cancelPending, endAccess, expireAccess, grantAccess, lostRace, nextStatus } from './transitions.ts';
import { approveExtension, expireOwnDueGrant, explainOverlap, extensionOutcome, refuseOverlap, requestExtension, retireOrphanExtensions, type ExtensionIn } from './extension.ts';

export interface RequestSettings {
  /** Submissions allowed per user per minute. */
  submissionsPerMinute: number;
}

/** How a decision was asked for: `bulk` when it is one item of a bulk call. */
export interface DecisionVia {
  bulk?: boolean;
  /** The step-up proof id the caller sent (`step_up`), spent in the decision's transaction. */
  stepUp?: string;
  /** A bulk call's one proof, already spent for its whole list (bulk-step-up.ts). */
  bulkStepUp?: { use: StepUpUse; binding: StepUpBinding };
  /** Runs first in the decision's transaction with the locked request: a decision link is spent there, so link and decision commit together. */
  within?: (trx: Tx, request: RequestRow) => Promise<void>;
  /** A button press in Slack by this linked Slack identity: recorded in the decision's transaction (audit `access_request.decided_via_slack`). */
  slack?: { team_id: string; slack_user_id: string };
}

const MINUTE = 60_000;
/** Grants per expiry transaction: small enough that one chunk holds the event loop (and SQLite's write lock) only briefly, and that instances share a burst. */
const EXPIRY_CHUNK = 200;

export function createRequestsService(core: RequestsCore, settings: RequestSettings, provisioning: Provisioning, assurance: DecisionAssurance) {
  const { db, clock, dialect } = core;

  /**
   * The template's step-up (decision-step-up.ts), checked on the locked request: returns the
   * actor to record the decision with, carrying the spent proof. The requester giving their
   * own access back needs none (it only ever takes access away from themselves).
   */
  async function confirmStepUp(trx: Tx, actor: Actor, template: Template, binding: StepUpBinding, via: DecisionVia): Promise<Actor> {
    if (via.bulkStepUp) {
      if (template.step_up_minutes !== null) assertBulkStepUpFresh(via.bulkStepUp.use, template.step_up_minutes, clock.now(), via.bulkStepUp.binding);
      return withStepUp(actor, via.bulkStepUp.use);
    }
    const minutes = template.step_up_minutes ?? (via.stepUp ? OFFERED_STEP_UP_MINUTES : null);
    if (minutes === null) return actor;
    return withStepUp(actor, await requireStepUp(assurance, trx, actor.userId, binding, via.stepUp, minutes));
  }

  /** Loads the request and its template inside the transaction, with the row locked (PostgreSQL). */
  async function lockForDecision(trx: Tx, id: string) {
    await lockRow(trx, dialect, 'access_requests', 'id', id);
    const request = await createRequestsRepo(trx).findById(id);
    assertThat(request, notFound('access request'));
    const template = await loadRequestTemplateIncludingDeleted(trx, request.template_id);
    return { request, template };
  }

  /** Nobody decides their own request: said as such, so the requester knows why (not a bare 403). */
  function refuseOwnRequest(actor: Actor, request: RequestRow, what: string): void {
    if (request.requester_id === actor.userId) throw new AppError(403, 'own_request', `this is your own request; someone else must ${what} it`);
  }

  /** A decision made as part of a bulk call (requests/bulk.ts) needs a template that allows it, checked on the locked row like every other rule. */
  function refuseUnlessBulkAllowed(template: Template, via: DecisionVia): void {
    if (via.bulk && !template.allow_bulk_decisions) throw new AppError(403, 'bulk_not_allowed', "this request's template does not allow bulk decisions; decide it on its own");
  }

  /** Records where a decision came from when it was not the portal or the API (Slack), in the deciding transaction. */
  async function recordChannel(trx: Tx, actor: Actor, request: RequestRow, decision: 'approve' | 'deny', via: DecisionVia): Promise<void> {
    if (!via.slack) return;
    await core.audit.append(trx, {
      actor,
      action: 'access_request.decided_via_slack',
      targetType: 'access_request',
      targetId: request.id,
      requestId: request.id,
      data: { via: 'slack', decision, stage: request.current_stage, team_id: via.slack.team_id, slack_user_id: via.slack.slack_user_id },
    });
  }

  /** Refuses with 404 when the actor may not even see the request, else 403. */
  async function authorize(executor: Executor, actor: Actor, request: RequestRow, template: Template, allowed: (groups: Set<string>) => boolean, what: string) {
    const groups = await liveGroupIdsOf(executor, actor.userId, clock.now());
    if (allowed(groups)) return;
    assertThat(mayView(template, request, actor, groups), notFound('access request'));
    throw forbidden(`you may not ${what} this request`);
  }

  return {
    async submit(actor: Actor, input: SubmitRequestIn): Promise<RequestRow> {
      const now = clock.now();
      const template = await loadTemplateForRequest(db, input.template_id);
      assertThat(template, notFound('template'));
      if (template.requester_group_ids.length > 0) {
        const groups = await liveGroupIdsOf(db, actor.userId, now);
        assertThat(template.requester_group_ids.some((g) => groups.has(g)), notFound('template'));
      }
      assertThat(template.enabled, conflict('template_disabled', 'this template is disabled'));
      // Every problem with the answers at once, so the requester fixes them in one go.
      const errors: FieldError[] = [];
      if (!template.allowed_durations.includes(input.duration_mins)) {
        errors.push({ field: 'duration_mins', message: `must be one of ${template.allowed_durations.join(', ')} (minutes)` });
      }
      if (template.require_justification && input.justification.length === 0) errors.push({ field: 'justification', message: 'is required by this template' });
      errors.push(...validateFieldAnswers(template.custom_fields, input.fields, { path: 'fields' }));
      errors.push(...startTimeErrors(template, input.starts_at, now));
      if (errors.length) throw badRequest('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
      const snapshot = await takeSnapshot(db, template);
      assertThat(snapshot, conflict('template_unavailable', "this template's application no longer exists"));

      const row = newRequestRow({
        id: newId(clock),
        template_id: template.id,
        template_version: template.version,
        requester_id: actor.userId,
        kind: 'request',
        parent_id: null,
        duration_mins: input.duration_mins,
        justification: input.justification,
        fields: JSON.stringify(input.fields),
        snapshot: JSON.stringify(snapshot),
        starts_at: input.starts_at === undefined ? null : Date.parse(input.starts_at),
        created_at: now,
      });
      const blocking = template.auto_approve && provisioning.needsProvisioning(template);
      try {
        await db.transaction().execute((trx) =>
          // The audit events are written at the end, so the chain head (every writer's queue)
          // is held only from there to the commit.
          core.audit.batched(trx, async () => {
            // The rate limit is counted and the slot taken in one transaction, serialised per
            // user (the user's row locked on PostgreSQL, the database lock on SQLite): a burst
            // of concurrent submissions cannot all read the same count.
            await lockUser(trx, dialect, actor.userId);
            const recent = await createRequestsRepo(trx).countSubmittedSince(actor.userId, now - MINUTE);
            if (recent >= settings.submissionsPerMinute) throw tooManyRequests(60);
            await refuseOverlap(core, trx, template.id, actor.userId);
            await createRequestsRepo(trx).insert(row);
            // The events go out under the template the request was made from (its snapshot's and version's).
            const cache = newEventBatchCache();
            cache.templates.set(template.id, template);
            await recordRequestEvent(
              core,
              trx,
              {
                type: 'submitted',
                requestId: row.id,
                actor,
                data: { template_id: template.id, duration_mins: row.duration_mins, justification: row.justification, fields: input.fields, ...(input.starts_at ? { starts_at: new Date(row.starts_at!).toISOString() } : {}) },
                request: row,
              },
              cache,
            );
            if (blocking) Object.assign(row, await provisioning.begin(trx, row, 'system'));
            else if (template.auto_approve) Object.assign(row, await grantAccess(core, trx, row, { actor: 'system', auto: true, comment: null }, 'approve', cache));
          }),
        );
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (!(await createRequestsRepo(db).findOpen(template.id, actor.userId))) await explainOverlap(core, error, template.id, actor.userId);
        const open = await createRequestsRepo(db).findOpen(template.id, actor.userId);
        throw conflict('request_already_open', 'you already have an open request for this template', { existing_request_id: open?.id ?? null });
      }
      // A failed blocking task leaves an auto-approved request pending for the approvers.
      if (blocking) return provisioning.finish(row, template, { actor: 'system', auto: true, comment: null }, false);
      return row;
    },

    /** Asks for more time on the caller's active grant (requests/extension.ts). */
    extend: (actor: Actor, id: string, input: ExtensionIn): Promise<RequestRow> => requestExtension(core, settings, actor, id, input),

    async approve(caller: Actor, id: string, comment?: string, via: DecisionVia = {}): Promise<RequestRow> {
      const by = { actor: caller, auto: false, comment: comment ?? null };
      let overlap: { templateId: string; requesterId: string } | null = null;
      const decided = await db.transaction().execute(async (trx) => {
        const { request, template } = await lockForDecision(trx, id);
        refuseOwnRequest(caller, request, 'approve');
        await authorize(trx, caller, request, template, (g) => mayDecide(template, request, caller.userId, g), 'approve');
        refuseUnlessBulkAllowed(template, via);
        nextStatus(request, 'approve');
        await via.within?.(trx, request);
        const actor = await confirmStepUp(trx, caller, template, { action: 'approve', target: request.id, stage: request.current_stage }, via);
        by.actor = actor;
        await recordChannel(trx, actor, request, 'approve', via);
        // The vote, the stage's count and a stage advance; only the last stage's quorum goes on to grant.
        const step = await castApproval(core, trx, request, template, actor, comment ?? null);
        if (step.kind !== 'final') return { kind: 'granted' as const, request: step.request };
        const holds = await snapshotStillHolds(trx, JSON.parse(request.snapshot) as RequestSnapshot);
        assertThat(holds, conflict('request_stale', "the template's mappings changed after this request was made; deny it and ask for a new one"));
        if (request.kind === 'extension') return { kind: 'extension' as const, outcome: await approveExtension(core, trx, request, by) };
        overlap = { templateId: request.template_id, requesterId: request.requester_id };
        await expireOwnDueGrant(core, trx, request.template_id, request.requester_id);
        if (provisioning.needsProvisioning(template)) return { kind: 'provisioning' as const, request: await provisioning.begin(trx, request, actor), template };
        return { kind: 'granted' as const, request: { ...request, ...(await grantAccess(core, trx, request, by)) } };
      }).catch((error: unknown) => (overlap ? explainOverlap(core, error, overlap.templateId, overlap.requesterId) : Promise.reject(error)));
      if (decided.kind === 'extension') return extensionOutcome(decided.outcome);
      if (decided.kind === 'granted') return decided.request;
      return provisioning.finish(decided.request, decided.template, by, true);
    },

    async deny(caller: Actor, id: string, comment?: string, via: DecisionVia = {}): Promise<RequestRow> {
      return db.transaction().execute(async (trx) => {
        const { request, template } = await lockForDecision(trx, id);
        refuseOwnRequest(caller, request, 'deny');
        await authorize(trx, caller, request, template, (g) => mayDecide(template, request, caller.userId, g), 'deny');
        refuseUnlessBulkAllowed(template, via);
        const status = nextStatus(request, 'deny');
        await via.within?.(trx, request);
        const actor = await confirmStepUp(trx, caller, template, { action: 'deny', target: request.id, stage: request.current_stage }, via);
        await recordChannel(trx, actor, request, 'deny', via);
        const now = clock.now();
        const patch = { status, decided_by: actor.userId, decided_at: now, decision_comment: comment ?? null, ended_at: now, end_reason: 'manual' as const, ended_by: actor.userId };
        await applyTransition(core, trx, request, patch);
        await recordRequestEvent(core, trx, { type: request.kind === 'extension' ? 'extension_denied' : 'denied', requestId: id, actor, data: { comment: comment ?? null } });
        return { ...request, ...patch };
      });
    },

    /**
     * Whether this actor may make this decision now, with the same checks as the decision
     * itself (but nothing locked or written): the stage it would be for, and the template's
     * step-up minutes. Decision links (Slack, the CLI) are made only after this passes.
     */
    async previewDecision(actor: Actor, id: string, decision: 'approve' | 'deny' | 'revoke'): Promise<{ request: RequestRow; stage: number | null; stepUpMinutes: number | null }> {
      const request = await createRequestsRepo(db).findById(id);
      assertThat(request, notFound('access request'));
      const template = await loadRequestTemplateIncludingDeleted(db, request.template_id);
      if (decision === 'revoke') {
        await authorize(db, actor, request, template, (g) => mayRevoke(template, request, actor, g), 'revoke');
        nextStatus(request, 'revoke');
        return { request, stage: null, stepUpMinutes: request.requester_id === actor.userId ? null : template.step_up_minutes };
      }
      refuseOwnRequest(actor, request, decision);
      await authorize(db, actor, request, template, (g) => mayDecide(template, request, actor.userId, g), decision);
      nextStatus(request, decision);
      return { request, stage: request.current_stage, stepUpMinutes: template.step_up_minutes };
    },

    async cancel(actor: Actor, id: string): Promise<RequestRow> {
      return db.transaction().execute(async (trx) => {
        const { request, template } = await lockForDecision(trx, id);
        await authorize(trx, actor, request, template, () => request.requester_id === actor.userId, 'cancel');
        const patch = request.status === 'approved' ? await cancelScheduled(core, trx, request, actor) : await cancelPending(core, trx, request, actor, null);
        if (!patch) throw lostRace();
        return { ...request, ...patch };
      });
    },

    /**
     * A bulk call's one step-up proof (DESIGN "Assurance": it covers the explicit list the
     * confirm step showed, bound to listHashOf(ids)), spent before the items when any of
     * their templates asks for step-up, within the shortest of their minutes. Each item then
     * rechecks its own template's minutes in its own transaction (confirmStepUp).
     */
    async spendBulkStepUp(actor: Actor, action: 'bulk_decision' | 'bulk_revoke', ids: readonly string[], proofId: string | undefined): Promise<DecisionVia['bulkStepUp']> {
      const rows = await createRequestsRepo(db).listRequesterStepUp(ids);
      // Giving back one's own access needs no step-up (as in revoke).
      let minutes: number | null = null;
      for (const row of rows) {
        if (action === 'bulk_revoke' && row.requester_id === actor.userId) continue;
        if (row.step_up_minutes !== null) minutes = Math.min(minutes ?? row.step_up_minutes, row.step_up_minutes);
      }
      const wanted = minutes ?? (proofId ? OFFERED_STEP_UP_MINUTES : null);
      if (wanted === null) return undefined;
      const binding = { action, target: listHashOf(ids), stage: null };
      return db.transaction().execute(async (trx) => ({ use: await requireStepUp(assurance, trx, actor.userId, binding, proofId, wanted), binding }));
    },

    async revoke(caller: Actor, id: string, reason: string, via: DecisionVia = {}): Promise<RequestRow> {
      return db.transaction().execute(async (trx) => {
        const { request, template } = await lockForDecision(trx, id);
        await authorize(trx, caller, request, template, (g) => mayRevoke(template, request, caller, g), 'revoke');
        await via.within?.(trx, request);
        const ownAccess = request.requester_id === caller.userId && !via.stepUp && !via.bulkStepUp;
        const actor = ownAccess ? caller : await confirmStepUp(trx, caller, template, { action: 'revoke', target: request.id, stage: null }, via);
        const patch = await endAccess(core, trx, request, { event: 'revoke', actor, reason });
        if (!patch) throw lostRace();
        return { ...request, ...patch };
      });
    },

    /**
     * Ends approved grants whose time is up, `chunk` per transaction so SQLite never
     * holds its write lock for long and several instances share the work on PostgreSQL
     * (each claims its chunk with SKIP LOCKED). Idempotent: a grant revoked or expired
     * meanwhile is skipped by the conditional update. Returns how many expired.
     */
    /** How long until the next grant ends (the injected clock's ms), or null when none is live: the expiry task wakes then. */
    async msUntilNextExpiry(): Promise<number | null> {
      const at = await createRequestsRepo(db).nextExpiry();
      return at === null ? null : at - clock.now();
    },

    async expireDueGrants(chunk = EXPIRY_CHUNK): Promise<number> {
      let total = 0;
      for (;;) {
        // Rows are claimed before any audit append, and the chunk's audit events are written
        // last (batched): the chain head, which every writer queues on, is held only from
        // there to the commit, and never while waiting for a request row a revoker locked.
        const { claimed, expired } = await db.transaction().execute((trx) =>
          core.audit.batched(trx, async () => {
            const due = await createRequestsRepo(trx).claimDueForExpiry(dialect, clock.now(), chunk);
            return { claimed: due.length, expired: await expireAccess(core, trx, due, newEventBatchCache()) };
          }),
        );
        total += expired;
        if (claimed < chunk) {
          await retireOrphanExtensions(core);
          return total;
        }
        // Let the event loop turn between chunks: on SQLite every statement is synchronous,
        // so without this the token endpoint (same process) would wait for the whole backlog.
        await yieldToEventLoop();
      }
    },
  };

}
export type RequestsService = ReturnType<typeof createRequestsService>;

/** Decisions on a request made from a since-deleted template still need its policy. */
async function loadRequestTemplateIncludingDeleted(executor: Executor, id: string): Promise<Template> {
  const template = await loadTemplateForRequest(executor, id, { includeDeleted: true });
  if (!template) throw new AppError(500, 'internal_error', 'request without template');
  return template;
}
