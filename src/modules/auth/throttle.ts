import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';

/**
 * Counts failed sign-ins per key (an account or an IP) in a fixed window, in the
 * database so every instance sees the same counts.
 */
export function createLoginThrottle(db: Executor, limits: { maxFailures: number; windowMs: number }) {
  return {
    /** Seconds until the key may try again, or 0 when it may try now. */
    async retryAfter(key: string, now: number): Promise<number> {
      const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
      if (!row || row.window_start + limits.windowMs <= now || row.failures < limits.maxFailures) return 0;
      return Math.ceil((row.window_start + limits.windowMs - now) / 1000);
    },

    async recordFailure(key: string, now: number): Promise<void> {
      const windowOpen = now - limits.windowMs;
      await db
        .insertInto('login_throttle')
        .values({ key, failures: 1, window_start: now })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql`case when login_throttle.window_start <= ${windowOpen} then 1 else login_throttle.failures + 1 end`,
            window_start: sql`case when login_throttle.window_start <= ${windowOpen} then ${now} else login_throttle.window_start end`,
          }),
        )
        .execute();
    },

    reset: (key: string) => db.deleteFrom('login_throttle').where('key', '=', key).execute(),
  };
}
export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
