import type { Core } from '../core.ts';
import { UNBOUNDED, type Budget } from './worker.ts';

/** Rows deleted per statement: short statements, so SQLite's write lock is never held for long. */
export const PURGE_CHUNK = 1000;

export interface PurgeOptions {
  /** Rows per delete statement. */
  chunk?: number;
  /** When to stop starting chunks; what is left goes at the next run. */
  budget?: Budget;
}

/**
 * Removes sessions and OIDC artefacts past their expiry, in bounded chunks. Expired rows
 * are already unusable; this keeps tables small. Returns how many rows went.
 */
export async function purgeExpiredState(core: Pick<Core, 'db' | 'clock'>, opts: PurgeOptions = {}): Promise<number> {
  const chunk = opts.chunk ?? PURGE_CHUNK;
  const budget = opts.budget ?? UNBOUNDED;
  const now = core.clock.now();
  const { db } = core;
  const oidcChunk = async () =>
    Number(
      (
        await db
          .deleteFrom('oidc_payloads')
          .where((eb) =>
            eb(eb.refTuple('model', 'id'), 'in', eb.selectFrom('oidc_payloads as p').select(['p.model', 'p.id']).where('p.expires_at', '<=', now).limit(chunk).$asTuple('model', 'id')),
          )
          .executeTakeFirst()
      ).numDeletedRows,
    );
  const sessionsChunk = async () =>
    Number(
      (
        await db
          .deleteFrom('sessions')
          .where('id', 'in', (eb) => eb.selectFrom('sessions as s').select('s.id').where('s.expires_at', '<=', now).limit(chunk))
          .executeTakeFirst()
      ).numDeletedRows,
    );
  let total = 0;
  for (const deleteChunk of [oidcChunk, sessionsChunk]) {
    for (;;) {
      const deleted = await deleteChunk();
      total += deleted;
      if (deleted < chunk) break;
      if (budget.spent()) return total;
    }
  }
  return total;
}
