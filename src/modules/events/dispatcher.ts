import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { DeliveryChannel } from '../../db/schema.ts';
import { claimRows } from '../../db/locks.ts';
import { newId } from '../../security/ids.ts';
import type { DeliveryRow } from '../deliveries/deliveries.repo.ts';
import type { EventPayload } from './event-payload.ts';
import { retryDelayMs } from './retry.ts';

export interface DeliveryResult {
  ok: boolean;
  responseStatus?: number;
  error?: string;
  /** Retrying cannot help (e.g. the event action was deleted): dead-letter now. */
  final?: boolean;
}

/** Sends one delivery. Throwing counts as a failed attempt with the error's message. */
export type Performer = (delivery: DeliveryRow, payload: EventPayload) => Promise<DeliveryResult>;

export interface DispatcherDeps {
  performers: Record<DeliveryChannel, Performer>;
  /** Told when a delivery gives up, inside the transaction that marks it dead. */
  onDeadLetter(trx: Tx, delivery: DeliveryRow, payload: EventPayload): Promise<void>;
  /** A running delivery whose lease passes is taken to be abandoned by a crashed worker. */
  leaseMs: number;
  batchSize: number;
  random?: () => number;
}

const MAX_ERROR_LENGTH = 2000;

/**
 * Delivers the outbox after commit, at least once. Each pass claims due deliveries (on
 * PostgreSQL with SKIP LOCKED, so several workers share the work), marks them running
 * under a lease, commits, sends them outside any transaction, then records the attempt:
 * success, a retry later with backoff, or dead-letter after the last try. A crash
 * between claim and record leaves the lease to expire and the delivery is sent again.
 * A delivery waits while an earlier one with the same ordering key is unfinished.
 */
export function createDispatcher(core: Core, deps: DispatcherDeps) {
  const { db, clock, dialect } = core;
  const random = deps.random ?? Math.random;

  async function claim(): Promise<{ delivery: DeliveryRow; payload: EventPayload }[]> {
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const due = await claimRows(
        trx
          .selectFrom('deliveries as d')
          .selectAll('d')
          .where((eb) =>
            eb.or([
              eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', now)]),
              eb.and([eb('d.status', '=', 'running'), eb('d.lease_until', '<=', now)]),
            ]),
          )
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom('deliveries as e')
                  .select('e.id')
                  .whereRef('e.ordering_key', '=', 'd.ordering_key')
                  .whereRef('e.id', '<', 'd.id')
                  .where('e.status', 'in', ['pending', 'running']),
              ),
            ),
          )
          .orderBy('d.id')
          .limit(deps.batchSize),
        dialect,
      ).execute();
      if (due.length === 0) return [];
      const ids = due.map((d) => d.id);
      await trx
        .updateTable('deliveries')
        .set((eb) => ({ status: 'running', lease_until: now + deps.leaseMs, attempts: eb('attempts', '+', 1), updated_at: now }))
        .where('id', 'in', ids)
        .execute();
      const events = await trx.selectFrom('outbox_events').select(['id', 'payload']).where('id', 'in', [...new Set(due.map((d) => d.event_id))]).execute();
      const payloads = new Map(events.map((e) => [e.id, JSON.parse(e.payload) as EventPayload]));
      return due.map((d) => ({ delivery: { ...d, status: 'running' as const, attempts: d.attempts + 1 }, payload: payloads.get(d.event_id)! }));
    });
  }

  async function attempt(delivery: DeliveryRow, payload: EventPayload): Promise<DeliveryResult & { durationMs: number }> {
    const started = performance.now();
    try {
      const result = await deps.performers[delivery.channel](delivery, payload);
      return { ...result, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error), durationMs: Math.round(performance.now() - started) };
    }
  }

  async function record(delivery: DeliveryRow, payload: EventPayload, result: DeliveryResult & { durationMs: number }): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const error = result.ok ? null : (result.error ?? 'failed').slice(0, MAX_ERROR_LENGTH);
      await trx
        .insertInto('delivery_attempts')
        .values({ id: newId(clock), delivery_id: delivery.id, at: now, ok: result.ok ? 1 : 0, duration_ms: result.durationMs, response_status: result.responseStatus ?? null, error })
        .execute();
      const dead = !result.ok && (result.final === true || delivery.attempts >= delivery.max_attempts);
      const status = result.ok ? 'succeeded' : dead ? 'dead' : 'pending';
      // Only the holder of this lease may settle it; a retry by an admin meanwhile wins.
      const settled = await trx
        .updateTable('deliveries')
        .set({
          status,
          lease_until: null,
          last_error: error,
          updated_at: now,
          completed_at: status === 'pending' ? null : now,
          next_attempt_at: status === 'pending' ? now + retryDelayMs(delivery.attempts, random()) : delivery.next_attempt_at,
        })
        .where('id', '=', delivery.id)
        .where('status', '=', 'running')
        .where('attempts', '=', delivery.attempts)
        .executeTakeFirst();
      if (dead && Number(settled.numUpdatedRows) === 1) await deps.onDeadLetter(trx, { ...delivery, status: 'dead', last_error: error }, payload);
    });
  }

  return {
    /** One pass: claims a batch, sends it, records the outcomes. Returns how many were attempted. */
    async deliverDue(): Promise<number> {
      const batch = await claim();
      await Promise.all(
        batch.map(async ({ delivery, payload }) => {
          await record(delivery, payload, await attempt(delivery, payload));
        }),
      );
      return batch.length;
    },
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
