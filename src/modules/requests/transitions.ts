import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { claimRows } from '../../db/locks.ts';
import { conflict } from '../../http/errors.ts';
import type { AuditActor } from '../../http/actor.ts';
import { createOidcPayloadsRepo } from '../../oidc/payloads.repo.ts';
import { activatedEvent, grantWindow, hasStarted } from './activation.ts';
import { createGrant, removeGrant, removeGrants } from './grants.ts';
import { isRefused, transition, type RequestEvent } from './lifecycle.ts';
import { recordRequestEvent, recordRequestEvents, type EventBatchCache, type EventCore } from './request-events.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import type { RequestSnapshot } from './snapshot.ts';

/**
 * The writes behind each lifecycle step, shared by the request service, the worker and
 * the clean-up that follows deleting what a grant stands on. Each runs inside the
 * caller's transaction and applies the state machine with a conditional update.
 */
type Patch = Partial<RequestRow> & { status: RequestRow['status'] };

export function nextStatus(request: RequestRow, event: RequestEvent): RequestRow['status'] {
  const next = transition(request.status, event);
  if (isRefused(next)) throw conflict(next.code, next.detail, { request_status: request.status });
  return next;
}

/** Applies a patch only if the request is still in the status read; false when a concurrent writer got there first. */
export function tryTransition(core: Pick<Core, 'clock'>, trx: Tx, request: RequestRow, patch: Patch): Promise<boolean> {
  return createRequestsRepo(trx).transition(request.id, request.status, { ...patch, updated_at: core.clock.now() }, request.status === 'pending' ? request.current_stage : undefined);
}

export const lostRace = () => conflict('request_changed', 'the request was changed by someone else at the same moment; reload it');

export async function applyTransition(core: Pick<Core, 'clock'>, trx: Tx, request: RequestRow, patch: Patch): Promise<void> {
  if (!(await tryTransition(core, trx, request, patch))) throw lostRace();
}

/**
 * Approval: the grant group, its member and mappings, the status and the event, in the
 * caller's transaction. `provisioned` finishes an approval that waited for a blocking
 * trigger task.
 */
export async function grantAccess(
  core: EventCore,
  trx: Tx,
  request: RequestRow,
  by: { actor: AuditActor; auto: boolean; comment: string | null },
  event: 'approve' | 'provisioned' = 'approve',
  cache?: EventBatchCache,
) {
  const now = core.clock.now();
  const snapshot = JSON.parse(request.snapshot) as RequestSnapshot;
  // The window: from the scheduled start if it is still ahead, else from now (activation.ts).
  const { startsAt, expiresAt } = grantWindow(request, now);
  const groupId = await createGrant(trx, core.clock, {
    requestId: request.id,
    requesterId: request.requester_id,
    mappingIds: snapshot.mappings.map((m) => m.mapping_id),
    expiresAt,
    startsAt,
  });
  const patch = {
    status: nextStatus(request, event),
    provisioning_deadline: null,
    provisioning_error: null,
    decided_by: by.actor === 'system' ? null : by.actor.userId,
    decided_at: now,
    decision_comment: by.comment,
    approved_at: now,
    expires_at: expiresAt,
    grant_group_id: groupId,
    starts_at: startsAt,
    activated_at: startsAt === null ? now : null,
  };
  await applyTransition(core, trx, request, patch);
  // The row as just written (the update changed only the patch's fields and updated_at).
  const written = { ...request, ...patch, updated_at: now };
  const approved = {
    type: 'approved' as const,
    requestId: request.id,
    actor: by.actor,
    data: {
      auto: by.auto,
      comment: by.comment,
      expires_at: new Date(expiresAt).toISOString(),
      starts_at: new Date(startsAt ?? now).toISOString(),
      scheduled: startsAt !== null,
      grants: snapshot.mappings,
    },
    request: written,
  };
  // A window that opens now is announced at once (`activated`); a scheduled one by the worker.
  await recordRequestEvents(core, trx, startsAt === null ? [approved, activatedEvent(written, by.actor, now, false)] : [approved], cache);
  return patch;
}

export type Ending = { event: 'revoke'; actor: AuditActor; reason: string } | { event: 'expire' };

/**
 * Ends an approved grant: revocation now, or expiry from the worker. Returns null when a
 * concurrent writer ended it first. Revocation also ends the requester's OIDC grants and
 * tokens in the grant's application (its snapshot's), and only there; expiry needs no such
 * step, since every token carrying the grant was capped at it.
 */
export async function endAccess(core: EventCore, trx: Tx, request: RequestRow, how: Ending, cache?: EventBatchCache) {
  const manual = how.event === 'revoke';
  const patch = {
    status: nextStatus(request, how.event),
    ended_at: core.clock.now(),
    end_reason: manual ? ('manual' as const) : ('automatic' as const),
    ended_by: manual && how.actor !== 'system' ? how.actor.userId : null,
    revoke_reason: manual ? how.reason : null,
  };
  if (!(await tryTransition(core, trx, request, patch))) return null;
  await removeGrant(trx, request.grant_group_id);
  await retireExtensionsOf(core, trx, [request.id]);
  // A scheduled grant revoked before its start was never in a token: the user's other tokens stay.
  if (manual && hasStarted(request, core.clock.now())) await createOidcPayloadsRepo(trx).deleteAppGrantsOf(request.requester_id, (JSON.parse(request.snapshot) as RequestSnapshot).app.id);
  await recordRequestEvent(
    core,
    trx,
    {
      type: manual ? 'revoked' : 'expired',
      requestId: request.id,
      actor: manual ? how.actor : 'system',
      data: { end_reason: patch.end_reason, reason: patch.revoke_reason },
      request: { ...request, ...patch },
    },
    cache,
  );
  return patch;
}

/**
 * Expiry of a batch of approved grants (one claimed chunk): endAccess's `expire` for each,
 * with the same writes and events, but one conditional update for all (a request changed
 * meanwhile stays as it is), one delete of their grant groups, and their events recorded
 * together. Returns how many expired.
 */
export async function expireAccess(core: EventCore, trx: Tx, requests: readonly RequestRow[], cache?: EventBatchCache): Promise<number> {
  if (requests.length === 0) return 0;
  const patch = { status: 'expired' as const, ended_at: core.clock.now(), end_reason: 'automatic' as const, ended_by: null, revoke_reason: null };
  // Only an approved request expires (nextStatus refuses anything else, as endAccess does).
  for (const request of requests) nextStatus(request, 'expire');
  const moved = await createRequestsRepo(trx).transitionMany(
    requests.map((r) => r.id),
    'approved',
    { ...patch, updated_at: core.clock.now() },
    // Re-checked in the update: an extension committed since the claim moved the end (DESIGN: races).
    { dueBy: core.clock.now() },
  );
  const ended = requests.filter((r) => moved.has(r.id));
  await removeGrants(
    trx,
    ended.map((r) => r.grant_group_id),
  );
  await retireExtensionsOf(
    core,
    trx,
    ended.map((r) => r.id),
  );
  await recordRequestEvents(
    core,
    trx,
    ended.map((request) => ({ type: 'expired', requestId: request.id, actor: 'system', data: { end_reason: patch.end_reason, reason: patch.revoke_reason }, request: { ...request, ...patch } })),
    cache,
  );
  return ended.length;
}

/**
 * Ends a request whose blocking trigger task is running because something it stands on
 * went away. Its `provisioning_deadline` stays set: it marks that the external system
 * must still be told to undo the run (`provisioning_reverted`), which the run's own
 * finish does when it returns, or the worker once the deadline passes (a crash).
 */
export async function retireProvisioning(core: EventCore, trx: Tx, request: RequestRow, actor: AuditActor, reason: string) {
  const patch = {
    status: nextStatus(request, 'retire'),
    ended_at: core.clock.now(),
    end_reason: 'reverted' as const,
    ended_by: actor === 'system' ? null : actor.userId,
    provisioning_error: reason,
  };
  if (!(await tryTransition(core, trx, request, patch))) return null;
  await recordRequestEvent(core, trx, { type: 'cancelled', requestId: request.id, actor, data: { reason } });
  return patch;
}

/** Withdraws a pending request (`cancel` by its requester, `retire` by what it stood on going away); null when it was decided meanwhile. */
export async function cancelPending(core: EventCore, trx: Tx, request: RequestRow, actor: AuditActor, reason: string | null, event: 'cancel' | 'retire' = 'cancel') {
  const patch = {
    status: nextStatus(request, event),
    ended_at: core.clock.now(),
    end_reason: 'manual' as const,
    ended_by: actor === 'system' ? null : actor.userId,
  };
  if (!(await tryTransition(core, trx, request, patch))) return null;
  await recordRequestEvent(core, trx, { type: 'cancelled', requestId: request.id, actor, data: reason ? { reason } : undefined });
  return patch;
}

/**
 * Cancels (`retire`) the pending extension requests of grants that just ended, in the
 * caller's transaction. On PostgreSQL an extension whose decision holds it right now is
 * skipped: that decision then finds its parent ended and cancels it itself, and the
 * worker's sweep (requests/extension.ts) catches any left over.
 */
export async function retireExtensionsOf(core: EventCore, trx: Tx, parentIds: readonly string[]): Promise<void> {
  if (parentIds.length === 0) return;
  const open = await claimRows(
    trx.selectFrom('access_requests').selectAll().where('parent_id', 'in', [...parentIds]).where('status', '=', 'pending').orderBy('id'),
    core.dialect,
  ).execute();
  for (const extension of open) await cancelPending(core, trx, extension, 'system', 'the grant it extends has ended', 'retire');
}
