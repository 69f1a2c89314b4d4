import { z } from 'zod';
import type { Executor, Tx } from '../../db/database.ts';
import { claimRows, claimRowsOf, isUniqueViolation, lockRow } from '../../db/locks.ts';
import { AppError, assertThat, badRequest, conflict, forbidden, notFound, tooManyRequests } from '../../http/errors.ts';
import type { Actor, AuditActor } from '../../http/actor.ts';
import { newId } from '../../security/ids.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import { lockUser } from '../users/users.repo.ts';
import { liveGroupIdsOf, mayView } from './eligibility.ts';
import { createBreakGlassRepo } from './break-glass.repo.ts';
import { extendGrant } from './grants.ts';
import { newEventBatchCache, recordRequestEvent, type EventCore, type RequestsCore } from './request-events.ts';
import { createRequestsRepo, newRequestRow, type RequestRow } from './requests.repo.ts';
import { takeSnapshot } from './snapshot.ts';
import { applyTransition, cancelPending, expireAccess, nextStatus } from './transitions.ts';

/**
 * Extension of an active grant, and the rule that one person holds at most one grant of a
 * template at a time (issue 12 §2; DESIGN "Extension, schedule, break-glass").
 *
 * An extension is its own request row (kind `extension`, `parent_id` the grant) with its
 * own snapshot, decided through the same approve/deny path as any request. Approval adds
 * the extension's duration to the parent's `expires_at` and to its grant group and
 * membership, which the claims read: the same group, no gap, and tokens issued afterwards
 * are capped at the new end. A token capped at the old end simply refreshes.
 *
 * Races: the extension update requires `expires_at > now` and status `approved`, the
 * expiry update `expires_at <= now` and status `approved`, so of an extension decision and
 * the worker's expiry meeting at the end of a grant exactly one takes effect.
 */

const MINUTE = 60_000;

export const extensionIn = z.strictObject({
  duration_mins: z.number().int().positive().describe('how much longer, in minutes: one of the template\'s allowed_durations'),
  justification: z.string().trim().min(1, 'is required: say why the access is needed for longer').max(4000),
});
export type ExtensionIn = z.infer<typeof extensionIn>;

/** Where a grant's total time counts from: its start (approval, or activation for a scheduled grant). */
/** Where a grant's window opened (or, scheduled and not yet started, will open): max_total_mins counts from there. */
const grantStartOf = (grant: RequestRow): number => grant.activated_at ?? grant.starts_at ?? grant.approved_at ?? grant.created_at;

/** Minutes the template still allows this grant to be extended by (floor), or null without a limit. */
function remainingMins(template: Pick<Template, 'max_total_mins'>, grant: RequestRow): number | null {
  if (template.max_total_mins === null || grant.expires_at === null) return null;
  return Math.max(0, Math.floor((grantStartOf(grant) + template.max_total_mins * MINUTE - grant.expires_at) / MINUTE));
}

const extensionsOffered = (template: Template | undefined): template is Template => Boolean(template && template.enabled && template.deleted_at === null && template.allow_extension);

/** The extension form's facts for a grant the actor holds, or null when it cannot be extended now. */
export async function extensionOptions(db: Executor, request: RequestRow, actor: Actor, now: number) {
  if (request.kind !== 'request' || request.status !== 'approved' || request.requester_id !== actor.userId) return null;
  if (request.expires_at === null || request.expires_at <= now) return null;
  const template = await loadTemplateForRequest(db, request.template_id);
  if (!extensionsOffered(template)) return null;
  if (await createBreakGlassRepo(db).findByRequest(request.id)) return null;
  const open = await createRequestsRepo(db).findOpen(request.template_id, request.requester_id);
  return {
    durations: template.allowed_durations,
    requires_approval: template.extension_requires_approval,
    max_total_mins: template.max_total_mins,
    remaining_mins: remainingMins(template, request),
    open_extension_id: open?.id ?? null,
  };
}

/** True when the grant's template lets the requester extend it (the expiry notice then links to the form). */
export async function isExtendable(db: Executor, request: RequestRow): Promise<boolean> {
  return request.kind === 'request' && extensionsOffered(await loadTemplateForRequest(db, request.template_id));
}

/**
 * Ends the requester's own grant of this template whose time is up but which the worker has
 * not expired yet, in the caller's transaction, so the one-grant rule never refuses because
 * the worker lags. Rows the worker holds right now are skipped (it is expiring them).
 */
export async function expireOwnDueGrant(core: EventCore, trx: Tx, templateId: string, requesterId: string): Promise<void> {
  const due = await claimRows(
    trx
      .selectFrom('access_requests')
      .selectAll()
      .where('template_id', '=', templateId)
      .where('requester_id', '=', requesterId)
      .where('status', '=', 'approved')
      .where('expires_at', '<=', core.clock.now()),
    core.dialect,
  ).execute();
  await expireAccess(core, trx, due, newEventBatchCache());
}

/** The requester's active grant of this template (one at most), if any. */
export function findActiveGrant(db: Executor, templateId: string, requesterId: string) {
  return db
    .selectFrom('access_requests')
    .select(['id', 'expires_at'])
    .where('template_id', '=', templateId)
    .where('requester_id', '=', requesterId)
    .where('status', '=', 'approved')
    .executeTakeFirst();
}

/** 409 naming the active grant: a second request of the same template would overlap it; extend it instead. */
export function activeGrantConflict(core: Pick<EventCore, 'baseUrl'>, grant: { id: string; expires_at: number | null }): AppError {
  return conflict('grant_already_active', 'you already have active access from this template; extend that grant instead of asking again', {
    active_request_id: grant.id,
    expires_at: grant.expires_at === null ? null : new Date(grant.expires_at).toISOString(),
    extend_url: `${core.baseUrl.replace(/\/+$/, '')}/requests/${grant.id}?extend=1`,
  });
}

/**
 * Before a new request of a template is submitted or granted: expire the requester's own due
 * grant, then refuse (409 `grant_already_active`) while a grant is still active. The
 * database's unique index on active grants backs this up against any path that skips it.
 */
export async function refuseOverlap(core: EventCore, trx: Tx, templateId: string, requesterId: string): Promise<void> {
  await expireOwnDueGrant(core, trx, templateId, requesterId);
  const active = await findActiveGrant(trx, templateId, requesterId);
  if (active) throw activeGrantConflict(core, active);
}

/** Turns a unique violation of the one-active-grant index into its 409, else passes the error on. */
export async function explainOverlap(core: RequestsCore, error: unknown, templateId: string, requesterId: string): Promise<never> {
  if (isUniqueViolation(error)) {
    const active = await findActiveGrant(core.db, templateId, requesterId);
    if (active) throw activeGrantConflict(core, active);
  }
  throw error;
}

type Decider = { actor: AuditActor; auto: boolean; comment: string | null };

/**
 * Adds the extension's time to its parent grant, in the caller's transaction (which has
 * locked the extension row). Returns the extension's patch, or null when the parent is no
 * longer active (expired, revoked or retired meanwhile): the caller then cancels it.
 */
export async function applyExtension(core: EventCore, trx: Tx, extension: RequestRow, by: Decider) {
  const parentId = extension.parent_id;
  if (!parentId) throw new AppError(500, 'internal_error', 'extension without parent');
  await lockRow(trx, core.dialect, 'access_requests', 'id', parentId);
  const repo = createRequestsRepo(trx);
  const parent = await repo.findById(parentId);
  const now = core.clock.now();
  if (!parent || parent.status !== 'approved' || parent.expires_at === null || parent.expires_at <= now || !parent.grant_group_id) return null;
  const template = await loadTemplateForRequest(trx, parent.template_id, { includeDeleted: true });
  assertThat(extensionsOffered(template), conflict('extension_not_allowed', 'the template no longer allows extensions; deny this one'));
  const left = remainingMins(template, parent);
  if (left !== null && extension.duration_mins > left) throw exceedsMaxTotal(template, left);
  const expiresAt = parent.expires_at + extension.duration_mins * MINUTE;
  nextStatus(parent, 'extend');
  // The extension update requires the grant still running (DESIGN: races); a miss means it ended.
  const moved = await trx
    .updateTable('access_requests')
    .set({ expires_at: expiresAt, expiring_notice_at: null, updated_at: now })
    .where('id', '=', parent.id)
    .where('status', '=', 'approved')
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) return null;
  await extendGrant(trx, core.clock, { groupId: parent.grant_group_id, requesterId: parent.requester_id, expiresAt });
  const patch = {
    status: nextStatus(extension, 'extend'),
    decided_by: by.actor === 'system' ? null : by.actor.userId,
    decided_at: now,
    decision_comment: by.comment,
    approved_at: now,
    expires_at: expiresAt,
    ended_at: now,
  };
  await applyTransition(core, trx, extension, patch);
  // Recorded on the grant, so its deliveries keep the grant's order: after `approved`, before `expired`.
  await recordRequestEvent(core, trx, {
    type: 'extended',
    requestId: parent.id,
    actor: by.actor,
    data: {
      extension_id: extension.id,
      auto: by.auto,
      comment: by.comment,
      duration_mins: extension.duration_mins,
      previous_expires_at: new Date(parent.expires_at).toISOString(),
      expires_at: new Date(expiresAt).toISOString(),
    },
    request: { ...parent, expires_at: expiresAt, expiring_notice_at: null, updated_at: now },
  });
  return patch;
}

const exceedsMaxTotal = (template: Template, remaining: number) =>
  conflict('extension_exceeds_max_total', `a grant of this template may last at most ${template.max_total_mins} minutes in total; at most ${remaining} more minutes are left`, {
    max_total_mins: template.max_total_mins,
    remaining_mins: remaining,
  });

const parentEnded = () => conflict('grant_not_active', 'the grant this extension was for has ended; the extension was cancelled');

/**
 * The approve path's step for an extension row (the request service calls it where a
 * request would be granted). When the parent ended, the extension is cancelled in the
 * same transaction and `ended` tells the caller to answer 409 once that has committed.
 */
export async function approveExtension(core: EventCore, trx: Tx, extension: RequestRow, by: Decider): Promise<{ row: RequestRow; ended: boolean }> {
  const patch = await applyExtension(core, trx, extension, by);
  if (patch) return { row: { ...extension, ...patch }, ended: false };
  const cancelled = await cancelPending(core, trx, extension, 'system', 'the grant it extends has ended', 'retire');
  return { row: { ...extension, ...cancelled }, ended: true };
}

/** After approveExtension's transaction: the row, or the 409 for an extension whose grant had ended. */
export function extensionOutcome(outcome: { row: RequestRow; ended: boolean }): RequestRow {
  if (outcome.ended) throw parentEnded();
  return outcome.row;
}

/**
 * POST /access-requests/:id/extensions: the requester asks for more time on their active
 * grant. Granted at once on a template whose extensions need no approval; otherwise it
 * waits for the approvers like any request.
 */
export async function requestExtension(core: RequestsCore, settings: { submissionsPerMinute: number }, actor: Actor, parentId: string, input: ExtensionIn): Promise<RequestRow> {
  const { db, clock, dialect } = core;
  let templateId: string | null = null;
  try {
    return await db.transaction().execute((trx) =>
      core.audit.batched(trx, async () => {
        const now = clock.now();
        // Serialised per user, like a submission: the rate limit and the one-open-request slot.
        await lockUser(trx, dialect, actor.userId);
        await lockRow(trx, dialect, 'access_requests', 'id', parentId);
        const repo = createRequestsRepo(trx);
        const parent = await repo.findById(parentId);
        assertThat(parent, notFound('access request'));
        const template = await loadTemplateForRequest(trx, parent.template_id, { includeDeleted: true });
        if (parent.requester_id !== actor.userId) {
          const groups = await liveGroupIdsOf(trx, actor.userId, now);
          assertThat(template && mayView(template, parent, actor, groups), notFound('access request'));
          throw forbidden('only the requester may extend their grant');
        }
        templateId = parent.template_id;
        assertThat(parent.kind === 'request', conflict('not_a_grant', 'an extension request cannot itself be extended; extend the grant it is for'));
        assertThat(!(await createBreakGlassRepo(trx).findByRequest(parent.id)), conflict('break_glass_not_extendable', 'a break-glass grant cannot be extended; ask for the access through the ordinary request'));
        assertThat(template && template.enabled && template.deleted_at === null, conflict('template_disabled', 'this template is disabled'));
        assertThat(template.allow_extension, conflict('extension_not_allowed', 'this template does not allow extending a grant; ask again once it ends'));
        if (!template.allowed_durations.includes(input.duration_mins)) {
          const errors = [{ field: 'duration_mins', message: `must be one of ${template.allowed_durations.join(', ')} (minutes)` }];
          throw badRequest('validation_failed', `duration_mins: ${errors[0]!.message}`, errors);
        }
        assertThat(
          parent.status === 'approved' && parent.expires_at !== null && parent.expires_at > now,
          conflict('grant_not_active', `the grant is ${parent.status === 'approved' ? 'past its end' : parent.status}; only an active grant can be extended`, { request_status: parent.status }),
        );
        const open = await repo.findOpen(parent.template_id, parent.requester_id);
        if (open) throw conflict('extension_already_open', 'an extension (or request) of this grant is already waiting for a decision', { existing_request_id: open.id });
        const left = remainingMins(template, parent);
        if (left !== null && input.duration_mins > left) throw exceedsMaxTotal(template, left);
        const recent = await repo.countSubmittedSince(actor.userId, now - MINUTE);
        if (recent >= settings.submissionsPerMinute) throw tooManyRequests(60);
        const snapshot = await takeSnapshot(trx, template);
        assertThat(snapshot, conflict('template_unavailable', "this template's application no longer exists"));

        // Nothing copied from the grant but its fields: an extension starts its own approval
        // (stages, escalation, lapse) from the beginning.
        const row = newRequestRow({
          id: newId(clock),
          template_id: parent.template_id,
          template_version: template.version,
          requester_id: parent.requester_id,
          kind: 'extension',
          parent_id: parent.id,
          duration_mins: input.duration_mins,
          justification: input.justification,
          fields: parent.fields,
          snapshot: JSON.stringify(snapshot),
          starts_at: null,
          created_at: now,
        });
        await repo.insert(row);
        const cache = newEventBatchCache();
        cache.templates.set(template.id, template);
        await recordRequestEvent(
          core,
          trx,
          {
            type: 'extension_requested',
            requestId: row.id,
            actor,
            data: { parent_id: parent.id, duration_mins: row.duration_mins, justification: row.justification, expires_at: new Date(parent.expires_at! + row.duration_mins * MINUTE).toISOString() },
            request: row,
          },
          cache,
        );
        if (template.extension_requires_approval) return row;
        const outcome = await approveExtension(core, trx, row, { actor: 'system', auto: true, comment: null });
        return outcome.row;
      }),
    );
  } catch (error) {
    if (!isUniqueViolation(error) || templateId === null) throw error;
    const open = await createRequestsRepo(db).findOpen(templateId, actor.userId);
    throw conflict('extension_already_open', 'an extension (or request) of this grant is already waiting for a decision', { existing_request_id: open?.id ?? null });
  }
}

/**
 * Worker sweep: pending extensions whose grant has ended (a decision held the row while
 * the grant ended, so the ending skipped it) are cancelled. Returns how many.
 */
export async function retireOrphanExtensions(core: RequestsCore): Promise<number> {
  return core.db.transaction().execute(async (trx) => {
    const orphans = await claimRowsOf(
      trx
        .selectFrom('access_requests as e')
        .innerJoin('access_requests as p', 'p.id', 'e.parent_id')
        .selectAll('e')
        .where('e.status', '=', 'pending')
        .where('e.kind', '=', 'extension')
        .where('p.status', '!=', 'approved')
        .orderBy('e.id')
        .limit(200),
      core.dialect,
      'e',
    ).execute();
    let n = 0;
    for (const extension of orphans) if (await cancelPending(core, trx, extension, 'system', 'the grant it extends has ended', 'retire')) n++;
    return n;
  });
}
