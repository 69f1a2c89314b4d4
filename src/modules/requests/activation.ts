import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Tx } from '../../db/database.ts';
import { claimRows } from '../../db/locks.ts';
import { conflict, type FieldError } from '../../http/errors.ts';
import type { AuditActor } from '../../http/actor.ts';
import { parseInstant } from '../../http/schemas.ts';
import { allowsScheduledStart } from '../templates/index.ts';
import type { Template } from '../templates/templates.types.ts';
import { removeGrant } from './grants.ts';
import { recordRequestEvent, recordRequestEvents, newEventBatchCache, type EventBatchCache, type EventCore, type RequestEventIn, type RequestsCore } from './request-events.ts';
import type { RequestRow } from './requests.repo.ts';
import { isRefused, transition } from './lifecycle.ts';

/**
 * Scheduled start (issue 12 §3). A request may ask for its access to start later
 * (`starts_at`, at most the template's `max_start_delay_mins` ahead); it is decided in
 * advance, as any request. A grant's window is [start, expires_at): the start is the
 * requested one, or the approval when there is none or it has already passed, and the
 * duration counts from that start, never from the request or the approval.
 *
 * The grant group and its membership are written at approval; the membership carries
 * the window's start, so the claims decision point counts it only from then on, whether
 * or not the worker has run. `access_request.activated` announces the opening: in the
 * approving transaction when the window opens at once, else from the worker task below.
 * A scheduled grant stays `approved` (live: scheduled or active); before its start the
 * requester may cancel it (`cancel_scheduled`) and anyone who may revoke may revoke it.
 */

const MINUTE = 60_000;
/** Grants per activation transaction, as for expiry: short transactions that several instances share. */
const ACTIVATION_CHUNK = 200;

/** What is wrong with a requested start, as field errors (none when it is absent and fine). */
export function startTimeErrors(template: Pick<Template, 'max_start_delay_mins'>, startsAt: string | undefined, now: number): FieldError[] {
  if (startsAt === undefined) return [];
  if (!allowsScheduledStart(template)) return [{ field: 'starts_at', message: 'this template does not allow a scheduled start; leave starts_at out' }];
  const at = parseInstant(startsAt);
  if (!(at > now)) return [{ field: 'starts_at', message: 'must be in the future' }];
  const max = template.max_start_delay_mins!;
  if (at > now + max * MINUTE) return [{ field: 'starts_at', message: `must be at most ${max} minutes (${describeMinutes(max)}) from now` }];
  return [];
}

function describeMinutes(mins: number): string {
  if (mins % 1440 === 0) return `${mins / 1440} day${mins === 1440 ? '' : 's'}`;
  if (mins % 60 === 0) return `${mins / 60} hour${mins === 60 ? '' : 's'}`;
  return `${mins} minute${mins === 1 ? '' : 's'}`;
}

/**
 * The window a grant approved at `now` gets: it starts at the requested start if that is
 * still ahead (scheduled, `startsAt` set), otherwise now (`startsAt` null: open at once);
 * it lasts the request's duration from that start.
 */
export function grantWindow(request: Pick<RequestRow, 'starts_at' | 'duration_mins'>, now: number): { startsAt: number | null; expiresAt: number } {
  const scheduled = request.starts_at !== null && request.starts_at > now;
  const start = scheduled ? request.starts_at! : now;
  return { startsAt: scheduled ? start : null, expiresAt: start + request.duration_mins * MINUTE };
}

/** A live grant whose window has not opened yet. */
export const isScheduled = (request: Pick<RequestRow, 'status' | 'activated_at' | 'starts_at'>, now: number): boolean =>
  request.status === 'approved' && request.activated_at === null && request.starts_at !== null && request.starts_at > now;

/** True once a grant's window has opened (tokens may carry it): what revocation has to end. */
export const hasStarted = (request: Pick<RequestRow, 'activated_at' | 'starts_at'>, now: number): boolean =>
  request.activated_at !== null || request.starts_at === null || request.starts_at <= now;

/** The `activated` event of a grant whose window opened at `opened`: in the approving transaction, or from the worker. */
export function activatedEvent(request: RequestRow, actor: AuditActor, opened: number, scheduled: boolean): RequestEventIn {
  return {
    type: 'activated',
    requestId: request.id,
    actor,
    data: { starts_at: new Date(opened).toISOString(), expires_at: request.expires_at === null ? null : new Date(request.expires_at).toISOString(), scheduled },
    request,
  };
}

/**
 * Worker task: announces the grants whose scheduled window has opened, `chunk` per
 * transaction. Each chunk is claimed with SKIP LOCKED on PostgreSQL and marked with a
 * conditional update (`activated_at` still null, still approved), so two workers running
 * at once announce each grant once. Returns how many it activated.
 */
export async function activateDueGrants(core: RequestsCore, chunk = ACTIVATION_CHUNK): Promise<number> {
  const { db, clock, dialect } = core;
  let total = 0;
  for (;;) {
    const { claimed, activated } = await db.transaction().execute((trx) =>
      core.audit.batched(trx, async () => {
        const now = clock.now();
        const due = await claimRows(
          trx
            .selectFrom('access_requests')
            .selectAll()
            .where('activated_at', 'is', null)
            .where('starts_at', '<=', now)
            .where('status', '=', 'approved')
            .orderBy('starts_at')
            .limit(chunk),
          dialect,
        ).execute();
        if (due.length === 0) return { claimed: 0, activated: 0 };
        const moved = await trx
          .updateTable('access_requests')
          .set({ activated_at: now, updated_at: now })
          .where('id', 'in', due.map((r) => r.id))
          .where('status', '=', 'approved')
          .where('activated_at', 'is', null)
          .returning('id')
          .execute();
        const ids = new Set(moved.map((r) => r.id));
        const opened = due.filter((r) => ids.has(r.id)).map((r) => ({ ...r, activated_at: now, updated_at: now }));
        // Each event names its grant's own window start, not the hour the worker got to it.
        await recordRequestEvents(
          core,
          trx,
          opened.map((r) => activatedEvent(r, 'system', r.starts_at!, true)),
          newEventBatchCache(),
        );
        return { claimed: due.length, activated: opened.length };
      }),
    );
    total += activated;
    if (claimed < chunk) return total;
    await yieldToEventLoop();
  }
}

/**
 * The requester withdraws a scheduled grant before its window opens: it ends `cancelled`
 * and its grant group goes. Refused once the window has opened (the grant is then given
 * back with revoke, which also ends the tokens that carry it).
 */
export async function cancelScheduled(core: EventCore, trx: Tx, request: RequestRow, actor: AuditActor, cache?: EventBatchCache) {
  const now = core.clock.now();
  if (!isScheduled(request, now)) {
    throw conflict('grant_started', 'the access has already started; give it back with revoke instead', { request_status: request.status });
  }
  const next = transition(request.status, 'cancel_scheduled');
  if (isRefused(next)) throw conflict(next.code, next.detail, { request_status: request.status });
  const patch = {
    status: next,
    ended_at: now,
    end_reason: 'manual' as const,
    ended_by: actor === 'system' ? null : actor.userId,
    updated_at: now,
  };
  const moved = await trx
    .updateTable('access_requests')
    .set(patch)
    .where('id', '=', request.id)
    .where('status', '=', 'approved')
    .where('activated_at', 'is', null)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) !== 1) throw conflict('request_changed', 'the request was changed by someone else at the same moment; reload it');
  await removeGrant(trx, request.grant_group_id);
  await recordRequestEvent(core, trx, { type: 'cancelled', requestId: request.id, actor, data: { scheduled: true, starts_at: new Date(request.starts_at!).toISOString() }, request: { ...request, ...patch } }, cache);
  return patch;
}
