import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';

/** One attempt, counted before the password is checked. */
export interface Reservation {
  key: string;
  /** This attempt's place in the window: 1 for the first. */
  count: number;
  windowStart: number;
  /** False when the key is over its limit: refuse without checking the password. */
  allowed: boolean;
  /** True for exactly one attempt per key and window, the first one refused. */
  firstRefused: boolean;
  /** Seconds until the window ends. */
  retryAfterSecs: number;
}

/**
 * Counts sign-in attempts per key (an account or an IP) in a fixed window, in the
 * database so every process and instance sees the same counts.
 *
 * An attempt is reserved with one atomic upsert before the password is checked, so
 * concurrent attempts each get their own count and none can slip past the limit while
 * others are still hashing. A success gives its reservation back; it never wipes
 * failures above the limit.
 */
export function createLoginThrottle(db: Executor, limits: { maxFailures: number; windowMs: number }) {
  return {
    async reserve(key: string, now: number): Promise<Reservation> {
      const windowOpen = now - limits.windowMs;
      const stale = sql<boolean>`login_throttle.window_start <= ${windowOpen}`;
      const row = await db
        .insertInto('login_throttle')
        .values({ key, failures: 1, window_start: now, failure_audited_window: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql`case when ${stale} then 1 else login_throttle.failures + 1 end`,
            window_start: sql`case when ${stale} then ${now} else login_throttle.window_start end`,
          }),
        )
        .returning(['failures', 'window_start'])
        .executeTakeFirstOrThrow();
      const count = Number(row.failures);
      const windowStart = Number(row.window_start);
      return {
        key,
        count,
        windowStart,
        allowed: count <= limits.maxFailures,
        firstRefused: count === limits.maxFailures + 1,
        retryAfterSecs: Math.max(1, Math.ceil((windowStart + limits.windowMs - now) / 1000)),
      };
    },

    /**
     * After a success. `reset`: an account that signs in starts afresh, but only while it
     * is within its limit (a burst that already went over keeps its count). Otherwise
     * only this attempt's own reservation is given back (an IP shared by many people).
     */
    async release(reservation: Reservation, mode: 'reset' | 'own'): Promise<void> {
      const failures =
        mode === 'reset'
          ? sql<number>`case when login_throttle.failures <= ${limits.maxFailures} then 0 else login_throttle.failures - 1 end`
          : sql<number>`login_throttle.failures - 1`;
      await db
        .updateTable('login_throttle')
        .set({ failures })
        .where('key', '=', reservation.key)
        .where('window_start', '=', reservation.windowStart)
        .where('failures', '>', 0)
        .execute();
    },
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/**
 * Claims the audit of this key's failures for its current window: true for exactly one
 * caller per key and window, so a burst writes one audit event, not hundreds. Run it in
 * the transaction that appends that event.
 */
export async function claimFailureAudit(db: Executor, key: string): Promise<boolean> {
  const won = await db
    .updateTable('login_throttle')
    .set({ failure_audited_window: sql`window_start` })
    .where('key', '=', key)
    .where((eb) => eb.or([eb('failure_audited_window', 'is', null), eb('failure_audited_window', '!=', eb.ref('window_start'))]))
    .returning('key')
    .executeTakeFirst();
  return won !== undefined;
}
