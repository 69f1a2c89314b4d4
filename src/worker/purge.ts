import type { Core } from '../core.ts';
import { UNBOUNDED, type Budget } from './worker.ts';

/** Rows deleted per statement: short statements, so SQLite's write lock is never held for long. */
export const PURGE_CHUNK = 1000;

export interface PurgeOptions {
  /** Sign-in throttle rows whose window ended this long ago count for nothing any more. */
  throttleWindowMs: number;
  /** Rows per delete statement. */
  chunk?: number;
  /** When to stop starting chunks; what is left goes at the next run. */
  budget?: Budget;
}

/**
 * Removes sessions, OIDC artefacts and sign-in throttle counts past their use, in
 * bounded chunks. Such rows are already unusable; this keeps tables small (throttle
 * rows in particular grow with every distinct email tried). Returns how many rows went.
 */
export async function purgeExpiredState(core: Pick<Core, 'db' | 'clock'>, opts: PurgeOptions): Promise<number> {
  const chunk = opts.chunk ?? PURGE_CHUNK;
  const budget = opts.budget ?? UNBOUNDED;
  const now = core.clock.now();
  const { db } = core;
  const deleted = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  const chunks = [
    async () =>
      deleted(
        await db
          .deleteFrom('oidc_payloads')
          .where((eb) =>
            eb(eb.refTuple('model', 'id'), 'in', eb.selectFrom('oidc_payloads as p').select(['p.model', 'p.id']).where('p.expires_at', '<=', now).limit(chunk).$asTuple('model', 'id')),
          )
          .executeTakeFirstOrThrow(),
      ),
    async () =>
      deleted(
        await db
          .deleteFrom('sessions')
          .where('id', 'in', (eb) => eb.selectFrom('sessions as s').select('s.id').where('s.expires_at', '<=', now).limit(chunk))
          .executeTakeFirstOrThrow(),
      ),
    async () =>
      deleted(
        await db
          .deleteFrom('login_throttle')
          .where('key', 'in', (eb) => eb.selectFrom('login_throttle as t').select('t.key').where('t.window_start', '<=', now - opts.throttleWindowMs).limit(chunk))
          .executeTakeFirstOrThrow(),
      ),
  ];
  let total = 0;
  for (const deleteChunk of chunks) {
    for (;;) {
      const count = await deleteChunk();
      total += count;
      if (count < chunk) break;
      if (budget.spent()) return total;
    }
  }
  return total;
}
