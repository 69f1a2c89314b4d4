import type { Executor, Tx } from '../../db/database.ts';
import { isUniqueViolation, lockRow } from '../../db/locks.ts';
import { AppError, assertThat, badRequest, conflict, notFound, tooManyRequests, type FieldError } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';
import { newId } from '../../security/ids.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';
import { validateFieldAnswers } from '../templates/index.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import { lockUser } from '../users/users.repo.ts';
import { createBreakGlassRepo, type BreakGlassRow } from './break-glass.repo.ts';
import { BREAK_GLASS_STEP_UP_MINUTES, requireStepUp, withStepUp, type DecisionAssurance } from './decision-step-up.ts';
import type { BreakGlassIn, ReviewIn } from './break-glass.types.ts';
import { liveGroupIdsOf, mayView } from './eligibility.ts';
import { activatedEvent } from './activation.ts';
import { createGrant } from './grants.ts';
import { reviewTransition } from './lifecycle.ts';
import { newEventBatchCache, recordRequestEvent, recordRequestEvents, type RequestsCore } from './request-events.ts';
import { createRequestsRepo, newRequestRow, type RequestRow } from './requests.repo.ts';
import { expireOwnDueGrant } from './extension.ts';
import { takeSnapshot } from './snapshot.ts';
import { applyTransition, endAccess, lostRace, nextStatus } from './transitions.ts';

const MINUTE = 60_000;
const OVERDUE_CHUNK = 200;

/**
 * Break-glass step-up (DESIGN "Assurance"): needed whenever the user has a second factor, and
 * whenever the template asks for step-up (a user without a factor is then told to add one);
 * within the template's minutes, or BREAK_GLASS_STEP_UP_MINUTES when it sets none. Bound to
 * (user, 'break_glass', template), spent inside the activation's transaction.
 */
async function breakGlassStepUp(assurance: DecisionAssurance, trx: Tx, actor: Actor, template: Template, proofId: string | undefined): Promise<Actor> {
  const needed = template.step_up_minutes !== null || proofId !== undefined || (await assurance.hasFactor(trx, actor.userId));
  if (!needed) return actor;
  const use = await requireStepUp(assurance, trx, actor.userId, { action: 'break_glass', target: template.id, stage: null }, proofId, template.step_up_minutes ?? BREAK_GLASS_STEP_UP_MINUTES);
  return withStepUp(actor, use);
}

/**
 * Who reviews a break-glass grant: never the requester; a live member of the template's
 * approver groups; an admin only when nobody else can (no approver groups, or none with a
 * live, active member other than the requester). DESIGN "Extension, schedule, break-glass".
 */
export async function mayReviewBreakGlass(
  db: Executor,
  at: number,
  template: Pick<Template, 'approver_group_ids' | 'deleted_at'>,
  request: Pick<RequestRow, 'requester_id'>,
  actor: Actor,
  groups: ReadonlySet<string>,
): Promise<boolean> {
  if (request.requester_id === actor.userId) return false;
  if (template.deleted_at === null && template.approver_group_ids.some((g) => groups.has(g))) return true;
  if (!actor.isAdmin) return false;
  const members = template.approver_group_ids.length ? await createMembershipsRepo(db).activeMembersOf(template.approver_group_ids, at) : [];
  return !members.some((m) => m.user_id !== request.requester_id);
}

export interface BreakGlassSettings {
  /** Submissions (break-glass activations count too) allowed per user per minute. */
  submissionsPerMinute: number;
}

/**
 * Break-glass (issue 12 §5): a requester of a break-glass template grants themselves its
 * access at once, with a justification, for at most break_glass_max_mins; every admin and
 * approver is alerted on every channel; an approver reviews it afterwards (`reviewed` or
 * `revoked`) within break_glass_review_mins, and is reminded once when that passes.
 */
export function createBreakGlassService(core: RequestsCore, settings: BreakGlassSettings, assurance: DecisionAssurance) {
  const { db, clock, dialect } = core;

  const mayReview = (trx: Tx, template: Template, request: RequestRow, actor: Actor, groups: ReadonlySet<string>) =>
    mayReviewBreakGlass(trx, clock.now(), template, request, actor, groups);

  return {
    mayReview,

    async activate(caller: Actor, input: BreakGlassIn, stepUp?: string): Promise<RequestRow> {
      let actor = caller;
      const now = clock.now();
      const template = await loadTemplateForRequest(db, input.template_id);
      assertThat(template, notFound('template'));
      const groups = await liveGroupIdsOf(db, actor.userId, now);
      // A break-glass template always names requester groups (a template rule); only their members may break the glass.
      if (!template.requester_group_ids.some((g) => groups.has(g))) {
        throw new AppError(403, 'not_a_requester', 'only members of this template’s requester groups may use its break-glass access');
      }
      assertThat(template.enabled, conflict('template_disabled', 'this template is disabled'));
      assertThat(template.break_glass && template.break_glass_max_mins !== null && template.break_glass_review_mins !== null, conflict('break_glass_not_offered', 'this template does not offer break-glass access'));
      const maxMins = template.break_glass_max_mins;
      const durationMins = input.duration_mins ?? maxMins;
      const errors: FieldError[] = [];
      if (durationMins > maxMins) errors.push({ field: 'duration_mins', message: `must be at most ${maxMins} minutes (the template's break-glass limit)` });
      errors.push(...validateFieldAnswers(template.custom_fields, input.fields, { path: 'fields' }));
      if (errors.length) throw badRequest('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
      const snapshot = await takeSnapshot(db, template);
      assertThat(snapshot, conflict('template_unavailable', "this template's application no longer exists"));

      const id = newId(clock);
      const reviewDueAt = now + template.break_glass_review_mins * MINUTE;
      try {
        await db.transaction().execute((trx) =>
          core.audit.batched(trx, async () => {
            // Serialised per user (the user's row on PostgreSQL, the database lock on SQLite):
            // two activations at once see each other, so one break-glass grant at a time holds.
            await lockUser(trx, dialect, actor.userId);
            actor = await breakGlassStepUp(assurance, trx, caller, template, stepUp);
            const requests = createRequestsRepo(trx);
            if ((await requests.countSubmittedSince(actor.userId, now - MINUTE)) >= settings.submissionsPerMinute) throw tooManyRequests(60);
            await expireOwnDueGrant(core, trx, template.id, actor.userId);
            const live = await createBreakGlassRepo(trx).liveOf(actor.userId, now);
            if (live) throw conflict('break_glass_active', 'you already have a break-glass grant; give it back or wait for it to end first', { existing_request_id: live.id });
            const active = await trx
              .selectFrom('access_requests')
              .select('id')
              .where('template_id', '=', template.id)
              .where('requester_id', '=', actor.userId)
              .where('status', '=', 'approved')
              .where('expires_at', '>', now)
              .executeTakeFirst();
            if (active) throw conflict('access_already_active', 'you already have this access', { existing_request_id: active.id });

            // Made as a pending request (the one-open-request rule applies) and granted in the same transaction.
            const pending = newRequestRow({
              id,
              template_id: template.id,
              template_version: template.version,
              requester_id: actor.userId,
              kind: 'request',
              parent_id: null,
              duration_mins: durationMins,
              justification: input.justification,
              fields: JSON.stringify(input.fields),
              snapshot: JSON.stringify(snapshot),
              starts_at: null,
              created_at: now,
            });
            await requests.insert(pending);
            const expiresAt = now + durationMins * MINUTE;
            const groupId = await createGrant(trx, clock, { requestId: id, requesterId: actor.userId, mappingIds: snapshot.mappings.map((m) => m.mapping_id), expiresAt });
            const patch = {
              status: nextStatus(pending, 'break_glass'),
              decided_by: actor.userId,
              decided_at: now,
              decision_comment: null,
              approved_at: now,
              expires_at: expiresAt,
              grant_group_id: groupId,
              // Its window opens at once (scheduled start never applies to break-glass).
              activated_at: now,
            };
            await applyTransition(core, trx, pending, patch);
            const review: BreakGlassRow = {
              request_id: id,
              requester_id: actor.userId,
              template_id: template.id,
              activated_at: now,
              review_due_at: reviewDueAt,
              review_state: 'unreviewed',
              reviewed_by: null,
              reviewed_at: null,
              review_comment: null,
              overdue_alerted_at: null,
            };
            await createBreakGlassRepo(trx).insert(review);
            const row = { ...pending, ...patch, updated_at: now };
            const cache = newEventBatchCache();
            cache.templates.set(template.id, template);
            const flagged = { break_glass: true, expires_at: new Date(expiresAt).toISOString(), review_due_at: new Date(reviewDueAt).toISOString() };
            await recordRequestEvents(
              core,
              trx,
              [
                // The alert (to every admin and approver, on every channel), then the grant as any approval records it, flagged.
                { type: 'break_glass_activated', requestId: id, actor, data: { ...flagged, justification: input.justification, duration_mins: durationMins, fields: input.fields }, request: row },
                { type: 'approved', requestId: id, actor, data: { ...flagged, auto: false, comment: null, grants: snapshot.mappings }, request: row },
                activatedEvent(row, actor, now, false),
              ],
              cache,
            );
          }),
        );
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        const open = await createRequestsRepo(db).findOpen(template.id, actor.userId);
        throw conflict('request_already_open', 'you already have an open request for this template; withdraw it first', { existing_request_id: open?.id ?? null });
      }
      const row = await createRequestsRepo(db).findById(id);
      if (!row) throw new AppError(500, 'internal_error', 'break-glass request vanished');
      return row;
    },

    /**
     * The after-the-fact review: `reviewed` (the use was justified) or `revoked` (it was not;
     * a grant still live ends now, through the ordinary revocation, which also ends the
     * requester's tokens for the application). Once only: of two reviewers at once one wins.
     */
    async review(reviewer: Actor, id: string, input: ReviewIn, stepUp?: string): Promise<RequestRow> {
      let actor = reviewer;
      return db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'access_requests', 'id', id);
        const request = await createRequestsRepo(trx).findById(id);
        assertThat(request, notFound('access request'));
        const template = await loadTemplateForRequest(trx, request.template_id, { includeDeleted: true });
        if (!template) throw new AppError(500, 'internal_error', 'request without template');
        const now = clock.now();
        const groups = await liveGroupIdsOf(trx, actor.userId, now);
        const review = await createBreakGlassRepo(trx).findByRequest(id);
        if (!review || !(await mayReview(trx, template, request, actor, groups))) {
          assertThat(mayView(template, request, actor, groups), notFound('access request'));
          assertThat(review, conflict('not_break_glass', 'this request is not a break-glass grant'));
          if (request.requester_id === actor.userId) throw new AppError(403, 'own_request', 'this is your own break-glass grant; someone else must review it');
          throw new AppError(403, 'forbidden', 'only an approver of this template (or an admin, when no approver can) may review this grant');
        }
        const next = reviewTransition(review.review_state, input.outcome);
        if (typeof next === 'object') throw conflict(next.code, next.detail, { review_state: review.review_state });
        // Revoking through the review is a revocation: the template's step-up applies as to POST …/revoke.
        if (input.outcome === 'revoked' && template.step_up_minutes !== null) {
          actor = withStepUp(actor, await requireStepUp(assurance, trx, actor.userId, { action: 'revoke', target: id, stage: null }, stepUp, template.step_up_minutes));
        }
        if (!(await createBreakGlassRepo(trx).review(id, next, { userId: actor.userId, at: now, comment: input.comment }))) throw lostRace();
        let row = request;
        if (input.outcome === 'revoked' && request.status === 'approved') {
          const patch = await endAccess(core, trx, request, { event: 'revoke', actor, reason: `break-glass review: ${input.comment}` });
          if (patch) row = { ...request, ...patch };
        }
        await recordRequestEvent(core, trx, { type: 'break_glass_reviewed', requestId: id, actor, data: { break_glass: true, outcome: input.outcome, comment: input.comment } });
        return row;
      });
    },

    /**
     * Unreviewed break-glass grants, oldest first, fetched with limit + 1 (views.presentPage
     * pages them): every one for an admin; for anyone else those of templates whose approver
     * groups they are in (not their own).
     */
    async listUnreviewed(actor: Actor, page: { limit: number; cursor?: string }): Promise<RequestRow[]> {
      const groups = actor.isAdmin ? null : [...(await liveGroupIdsOf(db, actor.userId, clock.now()))];
      return createBreakGlassRepo(db).listUnreviewed(page, { groupIds: groups, viewerId: actor.userId });
    },

    /**
     * Alerts again, loudly and once per grant, about break-glass grants nobody reviewed in
     * time (`break_glass_review_overdue`). Rows are claimed with SKIP LOCKED and marked by a
     * conditional update, so several workers send one alert. Returns how many were sent.
     */
    async alertOverdueReviews(chunk = OVERDUE_CHUNK): Promise<number> {
      let total = 0;
      for (;;) {
        const now = clock.now();
        const { claimed, alerted } = await db.transaction().execute((trx) =>
          core.audit.batched(trx, async () => {
            const repo = createBreakGlassRepo(trx);
            const due = await repo.claimOverdue(dialect, now, chunk);
            const events = [];
            for (const grant of due) {
              if (!(await repo.markOverdueAlerted(grant.request_id, now))) continue;
              events.push({
                type: 'break_glass_review_overdue' as const,
                requestId: grant.request_id,
                actor: 'system' as const,
                data: { break_glass: true, review_due_at: new Date(grant.review_due_at).toISOString() },
              });
            }
            await recordRequestEvents(core, trx, events, newEventBatchCache());
            return { claimed: due.length, alerted: events.length };
          }),
        );
        total += alerted;
        if (claimed < chunk) return total;
      }
    },
  };
}
export type BreakGlassService = ReturnType<typeof createBreakGlassService>;
