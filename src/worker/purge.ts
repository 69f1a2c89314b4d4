import type { Core } from '../core.ts';
import { createLoginThrottleRepo } from '../modules/auth/login-throttle.repo.ts';
import { createSessionsRepo } from '../modules/auth/sessions.repo.ts';
import { createStepUpRepo } from '../modules/step-up/step-up.repo.ts';
import { STEP_UP_MAX_AGE_MS } from '../modules/step-up/step-up.service.ts';
import { createOidcPayloadsRepo } from '../oidc/payloads.repo.ts';
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
 * Removes sessions, OIDC artefacts, sign-in throttle counts and step-up proofs past their use, in
 * bounded chunks. Such rows are already unusable; this keeps tables small (throttle
 * rows in particular grow with every distinct email tried). Returns how many rows went.
 */
export async function purgeExpiredState(core: Pick<Core, 'db' | 'clock'>, opts: PurgeOptions): Promise<number> {
  const chunk = opts.chunk ?? PURGE_CHUNK;
  const budget = opts.budget ?? UNBOUNDED;
  const now = core.clock.now();
  const { db } = core;
  // Each owner deletes its own rows: src/oidc the provider's, auth its sessions and throttle counts.
  const chunks = [
    () => createOidcPayloadsRepo(db).purgeExpired(now, chunk),
    () => createSessionsRepo(db).purgeExpired(now, chunk),
    () => createLoginThrottleRepo(db).purgeStale(now - opts.throttleWindowMs, chunk),
    // A step-up proof is spendable for STEP_UP_MAX_AGE_MS at most; kept twice that, then gone.
    () => createStepUpRepo(db).purgeOlderThan(now - 2 * STEP_UP_MAX_AGE_MS, chunk),
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
