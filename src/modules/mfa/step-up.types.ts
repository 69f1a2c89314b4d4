import type { Tx } from '../../db/database.ts';

/** The step-up binding a sensitive change asks for (src/modules/step-up). */
export interface StepUpBinding {
  action: 'factor_remove' | 'mfa_policy' | 'mfa_reset';
  target: string;
  stage?: number;
}

/**
 * The step-up core's `StepUpGuard.consume`, as this module needs it. src/modules/step-up sits
 * above this module (it checks factors through it), so compose.ts passes the guard in.
 * Throws 403 step_up_required / step_up_invalid / step_up_stale.
 */
export interface StepUpConsumer {
  consume(trx: Tx, userId: string, binding: StepUpBinding, proofId: string | undefined, maxAgeMs: number): Promise<{ proof_id: string; method: string; verified_at: number }>;
}

/** How fresh a step-up must be for a factor or policy change: the check is done just before. */
export const FACTOR_CHANGE_STEP_UP_MS = 5 * 60_000;
