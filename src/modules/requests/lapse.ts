import { sql } from 'kysely';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { claimRowsOf } from '../../db/locks.ts';
import { lapsingTemplatesQuery } from '../templates/lapse-glass.repo.ts';
import { isRefused, transition } from './lifecycle.ts';
import { newEventBatchCache, recordRequestEvents, type RequestEventIn, type RequestsCore } from './request-events.ts';
import type { RequestRow } from './requests.repo.ts';

const MINUTE = 60_000;
/** Requests per lapse transaction, as for expiry: a chunk holds SQLite's write lock only briefly, and instances share a burst. */
const LAPSE_CHUNK = 200;

/**
 * Ends pending requests nobody decided within their template's pending_ttl_mins (issue 12
 * §4): status `lapsed`, event `access_request.lapsed` (the requester is told, the approvers'
 * inboxes clear), and the one-open-request slot is free again. Rows are claimed `chunk` at a
 * time with SKIP LOCKED on PostgreSQL, and each update is conditional on the request being
 * still pending and past its time, so a decision racing the lapse gives exactly one outcome
 * and several workers lapse each request once. Returns how many lapsed.
 */
export async function lapseOverdueRequests(core: RequestsCore, chunk = LAPSE_CHUNK): Promise<number> {
  let total = 0;
  for (;;) {
    const now = core.clock.now();
    const { claimed, lapsed } = await core.db.transaction().execute((trx) =>
      core.audit.batched(trx, async () => {
        const due = await claimRowsOf(
          trx
            .selectFrom('access_requests as r')
            .innerJoin(lapsingTemplatesQuery(trx).as('t'), 't.id', 'r.template_id')
            .selectAll('r')
            .select('t.pending_ttl_mins')
            .where('r.status', '=', 'pending')
            .where(sql<boolean>`r.created_at + cast(t.pending_ttl_mins as bigint) * 60000 <= ${now}`)
            .orderBy('r.created_at')
            .orderBy('r.id')
            .limit(chunk),
          core.dialect,
          'r',
        ).execute();
        const events: RequestEventIn[] = [];
        for (const { pending_ttl_mins: ttl, ...request } of due) {
          const next = transition(request.status, 'lapse');
          if (isRefused(next)) continue;
          const ttlMins = Number(ttl);
          const patch = { status: next, ended_at: now, end_reason: 'automatic' as const, ended_by: null, updated_at: now };
          // Conditional: still pending and past its time. An approval or a cancel that got the
          // row first makes this miss, and the request keeps that outcome.
          const result = await trx
            .updateTable('access_requests')
            .set(patch)
            .where('id', '=', request.id)
            .where('status', '=', 'pending')
            .where('created_at', '<=', now - ttlMins * MINUTE)
            .executeTakeFirst();
          if (Number(result.numUpdatedRows) !== 1) continue;
          const row: RequestRow = { ...request, ...patch };
          events.push({ type: 'lapsed', requestId: request.id, actor: 'system', data: { pending_ttl_mins: ttlMins, end_reason: 'automatic' }, request: row });
        }
        await recordRequestEvents(core, trx, events, newEventBatchCache());
        return { claimed: due.length, lapsed: events.length };
      }),
    );
    total += lapsed;
    if (claimed < chunk) return total;
    await yieldToEventLoop();
  }
}

/** When a pending request lapses, given its template's pending_ttl_mins; null when it never does. */
export const lapsesAt = (createdAt: number, ttlMins: number | null | undefined): number | null => (ttlMins == null ? null : createdAt + ttlMins * MINUTE);
