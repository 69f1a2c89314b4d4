import type { Executor } from '../../db/database.ts';

/** What others may do to the sign-in throttle's counts (throttle.ts keeps them). */
export function createLoginThrottleRepo(db: Executor) {
  return {
    /** Deletes up to `chunk` counts whose window started at or before `windowStartedBy`; returns how many went. */
    purgeStale: async (windowStartedBy: number, chunk: number): Promise<number> => {
      const result = await db
        .deleteFrom('login_throttle')
        .where('key', 'in', (eb) => eb.selectFrom('login_throttle as t').select('t.key').where('t.window_start', '<=', windowStartedBy).limit(chunk))
        .executeTakeFirstOrThrow();
      return Number(result.numDeletedRows);
    },
  };
}
