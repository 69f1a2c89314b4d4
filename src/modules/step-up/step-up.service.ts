import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError, conflict, notFound } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';
import { newId } from '../../security/ids.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import type { FactorProof, SecondFactors } from '../mfa/index.ts';
import { createStepUpRepo } from './step-up.repo.ts';
import type { StepUpBinding, StepUpGuard, StepUpUse } from './step-up.types.ts';

/** How long a started proof may be verified. How long a verified one may be spent is the caller's "within N minutes". */
export const STEP_UP_VERIFY_WINDOW_MS = 5 * 60_000;
/** Failed checks before a proof dies (a new one must be started). */
export const STEP_UP_MAX_FAILURES = 5;
/** The longest "within N minutes" anything may ask for; the purge task removes proofs twice as old. */
export const STEP_UP_MAX_AGE_MS = 60 * 60_000;

/** The binding as one value: the same act by the same user always hashes the same, any other never does. */
export const bindingHashOf = (userId: string, binding: StepUpBinding) =>
  sha256(JSON.stringify(['interim-step-up', userId, binding.action, binding.target, binding.stage ?? null]));

/** The hash a bulk act's target is: the explicit, ordered list the confirm step showed. */
export const listHashOf = (ids: readonly string[]) => sha256(JSON.stringify(['interim-bulk', ...ids]));

const bindingDetails = (binding: StepUpBinding, maxAgeMs: number) => ({
  step_up: { action: binding.action, target: binding.target, stage: binding.stage ?? null, max_age_minutes: Math.round(maxAgeMs / 60_000) },
});

/**
 * Step-up proofs (DESIGN "Assurance"): start one for an exact act, verify it with a second
 * factor whose WebAuthn challenge is derived from that act, then spend it once in the
 * transaction that commits the act.
 */
export function createStepUpService(core: Pick<Core, 'db' | 'clock' | 'audit'>, factors: SecondFactors) {
  const { db, clock } = core;

  const guard: StepUpGuard = {
    async consume(trx: Tx, userId: string, binding: StepUpBinding, proofId: string | undefined, maxAgeMs: number): Promise<StepUpUse> {
      if (!proofId) throw new AppError(403, 'step_up_required', 'confirm this with your second factor first (POST /api/v1/step-up)', bindingDetails(binding, maxAgeMs));
      const now = clock.now();
      const repo = createStepUpRepo(trx);
      const spent = await repo.spend(proofId, userId, bindingHashOf(userId, binding), now - maxAgeMs, now);
      if (spent) return { proof_id: spent.id, method: spent.method!, verified_at: spent.verified_at! };
      const row = await repo.find(proofId);
      const usable = row && row.user_id === userId && row.binding_hash === bindingHashOf(userId, binding) && row.used_at === null && row.verified_at !== null;
      if (usable) throw new AppError(403, 'step_up_stale', `the second-factor check is older than ${Math.round(maxAgeMs / 60_000)} min; check again`, bindingDetails(binding, maxAgeMs));
      throw new AppError(403, 'step_up_invalid', 'that second-factor check is not for this action, not verified, or already used', bindingDetails(binding, maxAgeMs));
    },
  };

  return {
    guard,

    /** Starts a proof for the caller's own act. 409 `no_second_factor` when they have none to check. */
    async start(actor: Actor, binding: StepUpBinding) {
      const methods = await factors.methodsOf(db, actor.userId);
      if (methods.length === 0) throw conflict('no_second_factor', 'add a passkey or an authenticator app in your account first');
      const now = clock.now();
      const bindingHash = bindingHashOf(actor.userId, binding);
      const challenge = sha256(`${bindingHash}:${randomSecret()}`);
      const row = {
        id: newId(clock),
        user_id: actor.userId,
        action: binding.action,
        target: binding.target,
        stage: binding.stage ?? null,
        binding_hash: bindingHash,
        challenge,
        created_at: now,
        expires_at: now + STEP_UP_VERIFY_WINDOW_MS,
        failed_attempts: 0,
        verified_at: null,
        method: null,
        factor_id: null,
        used_at: null,
      };
      await createStepUpRepo(db).insert(row);
      const webauthn = methods.includes('webauthn') ? await factors.webauthnOptions(db, actor.userId, challenge) : null;
      return { id: row.id, challenge, methods, webauthn, expires_at: row.expires_at };
    },

    /** Checks the caller's second factor against their started proof. */
    async verify(actor: Actor, id: string, proof: FactorProof) {
      const result = await db.transaction().execute(async (trx) => {
        const repo = createStepUpRepo(trx);
        const row = await repo.find(id);
        if (!row || row.user_id !== actor.userId) throw notFound('step-up');
        const now = clock.now();
        if (row.verified_at !== null) throw conflict('step_up_verified', 'this check was already passed; start a new one for another action');
        if (now > row.expires_at || row.failed_attempts >= STEP_UP_MAX_FAILURES) throw new AppError(410, 'step_up_expired', 'this check expired; start a new one');
        const use = await factors.verify(trx, actor.userId, proof, row.challenge);
        if (!use) return null;
        if (!(await repo.markVerified(id, now, use.method, use.factorId))) throw conflict('step_up_verified', 'this check was already passed; start a new one for another action');
        return { id, verified_at: now, method: use.method };
      });
      if (result) return result;
      // Counted outside the failed check's transaction, so the count survives.
      await createStepUpRepo(db).countFailure(id);
      throw new AppError(403, 'step_up_failed', 'the second factor was not accepted');
    },

  };
}
export type StepUpService = ReturnType<typeof createStepUpService>;
