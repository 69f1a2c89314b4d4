import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { DeliveryChannel } from '../../db/schema.ts';
import { newId } from '../../security/ids.ts';
import { createDeliveriesRepo, type DeliveryRow } from '../deliveries/deliveries.repo.ts';
import type { OutboxPayload } from '../event-payload/signal-payload.types.ts';
import { keepLeases, type LeaseSettings } from './leases.ts';
import { retryDelayMs, type RetryBackoff } from './retry.ts';

export interface DeliveryResult {
  ok: boolean;
  responseStatus?: number;
  error?: string;
  /** Retrying cannot help (e.g. the event action was deleted): dead-letter now. */
  final?: boolean;
}

/** Sends one delivery. Throwing counts as a failed attempt with the error's message. */
export type Performer = (delivery: DeliveryRow, payload: OutboxPayload) => Promise<DeliveryResult>;

/** Leases (leases.ts): a claim not renewed within its channel's lease is taken to be abandoned by a crashed worker. */
export interface DispatcherDeps extends LeaseSettings {
  performers: Record<DeliveryChannel, Performer>;
  /** Told when a delivery gives up, inside the transaction that marks it dead. */
  onDeadLetter(trx: Tx, delivery: DeliveryRow, payload: OutboxPayload): Promise<void>;
  /** Attempts one dispatcher has in flight at once. */
  concurrency: number;
  /** Script runs that would start at once now; script and trigger claims never exceed it. */
  scriptCapacity(): number;
  /**
   * The sandbox's workers. This dispatcher never has more script attempts in flight, even
   * while one of its own is still loading its script and not yet counted by the sandbox.
   */
  scriptWorkers: number;
  /** Attempts of a notification or event-action delivery; a trigger task's come from its template. */
  maxAttempts: number;
  backoff: RetryBackoff;
  random?: () => number;
}

const MAX_ERROR_LENGTH = 2000;
type Claimed = { delivery: DeliveryRow; payload: OutboxPayload };
/** Channels that run in the script sandbox, whose workers are few. */
const SCRIPT_CHANNELS: readonly DeliveryChannel[] = ['script', 'trigger'];
/** Channels that tell applications that access ended (signals): claimed before the rest, so a burst of notices never delays them. */
const SIGNAL_CHANNELS: readonly DeliveryChannel[] = ['backchannel_logout', 'ssf'];
const OTHER_CHANNELS: readonly DeliveryChannel[] = ['email', 'slack', 'webhook'];

/**
 * Delivers the outbox after commit, at least once. Each pass claims due deliveries (on
 * PostgreSQL with SKIP LOCKED, so several workers share the work), no more than can start
 * at once (bounded concurrency; scripts no more than the sandbox has free workers), marks
 * them running under a per-channel lease, commits, sends them outside any transaction,
 * renewing the leases while they run, then records each attempt: success, a retry later
 * with backoff, or dead-letter after the last try. A crash between claim and record
 * leaves the lease to run out (a channel's time limit plus a margin) and the delivery is
 * sent again. A delivery waits while an earlier one with the same ordering key is
 * unfinished.
 */
export function createDispatcher(core: Pick<Core, 'db' | 'dialect' | 'clock'>, deps: DispatcherDeps) {
  const { db, clock, dialect } = core;
  const random = deps.random ?? Math.random;
  /** Script and trigger attempts of this dispatcher between claim and record. */
  let scriptsInFlight = 0;

  /** Attempts allowed: a trigger task's from its template (stored on the row), every other from the setting. */
  const allowedAttempts = (d: DeliveryRow) => (d.channel === 'trigger' ? d.max_attempts : deps.maxAttempts);

  /** Claims at most `room` due deliveries, script ones no more than the sandbox can start now. */
  async function claim(room: number): Promise<Claimed[]> {
    const claimed = await db.transaction().execute(async (trx): Promise<Claimed[]> => {
      const now = clock.now();
      const deliveries = createDeliveriesRepo(trx);
      const signals = await deliveries.claimDue(dialect, now, SIGNAL_CHANNELS, room);
      const others = [...signals, ...(room > signals.length ? await deliveries.claimDue(dialect, now, OTHER_CHANNELS, room - signals.length) : [])];
      const scriptRoom = Math.min(room - others.length, deps.scriptCapacity(), deps.scriptWorkers - scriptsInFlight);
      const scripts = scriptRoom > 0 ? await deliveries.claimDue(dialect, now, SCRIPT_CHANNELS, scriptRoom) : [];
      const due = [...others, ...scripts];
      if (due.length === 0) return [];
      for (const channel of new Set(due.map((d) => d.channel))) {
        await deliveries.markRunning(
          due.filter((d) => d.channel === channel).map((d) => d.id),
          { now, leaseUntil: now + deps.leaseMs[channel], maxAttempts: channel === 'trigger' ? null : deps.maxAttempts },
        );
      }
      const events = await trx.selectFrom('outbox_events').select(['id', 'payload']).where('id', 'in', [...new Set(due.map((d) => d.event_id))]).execute();
      const payloads = new Map(events.map((e) => [e.id, JSON.parse(e.payload) as OutboxPayload]));
      return due.map((d) => ({
        delivery: { ...d, status: 'running' as const, attempts: d.attempts + 1, max_attempts: allowedAttempts(d) },
        payload: payloads.get(d.event_id)!,
      }));
    });
    // Counted once committed: from here until recorded, each holds a sandbox slot.
    scriptsInFlight += claimed.filter((c) => SCRIPT_CHANNELS.includes(c.delivery.channel)).length;
    return claimed;
  }

  async function attempt(delivery: DeliveryRow, payload: OutboxPayload): Promise<DeliveryResult & { durationMs: number }> {
    const started = performance.now();
    try {
      const result = await deps.performers[delivery.channel](delivery, payload);
      return { ...result, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error), durationMs: Math.round(performance.now() - started) };
    }
  }

  async function record(delivery: DeliveryRow, payload: OutboxPayload, result: DeliveryResult & { durationMs: number }): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const error = result.ok ? null : (result.error ?? 'failed').slice(0, MAX_ERROR_LENGTH);
      const deliveries = createDeliveriesRepo(trx);
      await deliveries.recordAttempt({ id: newId(clock), delivery_id: delivery.id, at: now, ok: result.ok ? 1 : 0, duration_ms: result.durationMs, response_status: result.responseStatus ?? null, error });
      const dead = !result.ok && (result.final === true || delivery.attempts >= allowedAttempts(delivery));
      const status = result.ok ? 'succeeded' : dead ? 'dead' : 'pending';
      // Only the holder of this lease may settle it; a retry by an admin meanwhile wins.
      const settled = await deliveries.settle(
        delivery,
        {
          status,
          last_error: error,
          completed_at: status === 'pending' ? null : now,
          next_attempt_at: status === 'pending' ? now + retryDelayMs(delivery.attempts, random(), deps.backoff) : delivery.next_attempt_at,
        },
        now,
      );
      if (dead && settled) await deps.onDeadLetter(trx, { ...delivery, status: 'dead', last_error: error }, payload);
    });
  }

  /** Sends one claimed delivery and records the outcome, holding it in `inFlight` (leases renewed) until it has an answer. */
  async function send({ delivery, payload }: Claimed, inFlight: Map<string, DeliveryRow>): Promise<void> {
    inFlight.set(delivery.id, delivery);
    let result: DeliveryResult & { durationMs: number };
    try {
      result = await attempt(delivery, payload);
    } finally {
      inFlight.delete(delivery.id);
      if (SCRIPT_CHANNELS.includes(delivery.channel)) scriptsInFlight--;
    }
    await record(delivery, payload, result);
  }

  return {
    /** One pass: claims what can start now, sends it, records the outcomes. Returns how many were attempted. */
    async deliverDue(): Promise<number> {
      const batch = await claim(deps.concurrency);
      if (batch.length === 0) return 0;
      const inFlight = new Map<string, DeliveryRow>();
      const stop = keepLeases(core, deps, inFlight);
      try {
        await Promise.all(batch.map((claimed) => send(claimed, inFlight)));
      } finally {
        await stop();
      }
      return batch.length;
    },

    /**
     * The worker's delivery run: keeps up to `concurrency` attempts in flight, claiming more
     * as each one ends, so one slow receiver holds one slot, not a whole batch. Stops
     * claiming once nothing is due or the budget is spent, and returns when the attempts in
     * flight are recorded. Returns how many were attempted.
     */
    async deliverWhileDue(budget: { spent(): boolean }): Promise<number> {
      const inFlight = new Map<string, DeliveryRow>();
      const running = new Set<Promise<void>>();
      const stop = keepLeases(core, deps, inFlight);
      let total = 0;
      let ended = 0;
      // An attempt whose outcome could not be recorded (the database went away) fails the
      // run once the others are settled. Caught where it is made: an attempt may fail while
      // this loop awaits a claim, with nothing yet listening to it, and an unheard rejection
      // ends the process. Its lease lapses and another pass retries it.
      const failures: unknown[] = [];
      try {
        for (;;) {
          if (failures.length > 0) throw failures[0];
          const endedBefore = ended;
          const room = deps.concurrency - running.size;
          if (room > 0 && !budget.spent()) {
            const batch = await claim(room);
            total += batch.length;
            for (const claimed of batch) {
              const sending: Promise<void> = send(claimed, inFlight)
                .catch((error: unknown) => {
                  failures.push(error);
                })
                .finally(() => {
                  running.delete(sending);
                  ended++;
                });
              running.add(sending);
            }
          }
          // An attempt that ended while claiming freed a slot (and may have made the next
          // delivery of its ordering key due): claim again rather than wait for another, or
          // stop. Stopping only when nothing ended since the claim began: the last attempt in
          // flight may have ended during it, and its successor is due now.
          if (ended !== endedBefore) continue;
          if (running.size === 0) {
            if (failures.length > 0) throw failures[0];
            return total;
          }
          await Promise.race(running);
        }
      } finally {
        await Promise.allSettled(running);
        await stop();
      }
    },
  };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
