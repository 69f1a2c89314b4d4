import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import type { Actor } from '../../http/actor.ts';
import { assertThat, conflict, forbidden, notFound } from '../../http/errors.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { createManageRepo } from './manage.repo.ts';
import { createPendingRepo } from './pending.repo.ts';
import { ensureMfaPolicyRow, MFA_POLICY_KEY, readMfaPolicy, writeMfaPolicy, type EnrolmentDue, type MfaPolicy } from './policy.ts';
import { FACTOR_CHANGE_STEP_UP_MS, type StepUpBinding, type StepUpConsumer } from './step-up.types.ts';

/**
 * What admins do about second factors: the MFA policy and resetting a user's factors. Both
 * need the admin's own step-up when the admin has a factor (DESIGN "Assurance").
 */
export function createMfaAdminService(
  core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>,
  deps: {
    due: EnrolmentDue;
    stepUp: StepUpConsumer;
    /** Ends every session, API token and OIDC grant of the user: the users module's revocation path (compose's userHooks().endAccess). */
    endAccess(trx: Tx, userId: string): Promise<{ apiTokensEnded: number }>;
  },
) {
  const { db, dialect, clock, audit } = core;

  async function stepUpIfEnrolled(trx: Tx, actor: Actor, binding: StepUpBinding, proofId: string | undefined, hasFactor: boolean) {
    if (!hasFactor) return undefined;
    return deps.stepUp.consume(trx, actor.userId, binding, proofId, FACTOR_CHANGE_STEP_UP_MS);
  }

  return {
    readPolicy: (actor: Actor) => {
      assertThat(actor.isAdmin, forbidden());
      return readMfaPolicy(db);
    },

    async updatePolicy(actor: Actor, policy: MfaPolicy, stepUpProofId: string | undefined): Promise<MfaPolicy> {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        const now = clock.now();
        await ensureMfaPolicyRow(trx, now);
        // Concurrent changes take turns, so the table of who must enrol matches the policy that wins.
        await lockRow(trx, dialect, 'settings', 'key', MFA_POLICY_KEY);
        const hasFactor = (await createManageRepo(trx).countFactors(actor.userId)) > 0;
        // Every policy covers admins: one without a factor would lock themselves (and their API tokens) out.
        assertThat(policy === 'off' || hasFactor, conflict('mfa_enrol_first', 'enrol a second factor yourself before requiring one'));
        const stepUp = await stepUpIfEnrolled(trx, actor, { action: 'mfa_policy', target: MFA_POLICY_KEY }, stepUpProofId, hasFactor);
        const before = await readMfaPolicy(trx);
        await writeMfaPolicy(trx, policy, now);
        await deps.due.recomputeAll(trx, policy, now);
        await audit.append(trx, { actor, action: 'mfa.policy_updated', targetType: 'settings', targetId: MFA_POLICY_KEY, data: { before, after: policy, ...(stepUp ? { step_up: stepUp } : {}) } });
        return policy;
      });
    },

    /** Removes every factor and recovery code of the user and ends all their access: they sign in again with the password alone (and enrol again if the policy says so). */
    async reset(actor: Actor, userId: string, stepUpProofId: string | undefined): Promise<{ factors: number; recovery_codes: number }> {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        assertThat(await createUsersRepo(trx).findById(userId), notFound('user'));
        const hasFactor = (await createManageRepo(trx).countFactors(actor.userId)) > 0;
        const stepUp = await stepUpIfEnrolled(trx, actor, { action: 'mfa_reset', target: userId }, stepUpProofId, hasFactor);
        // Pending sign-ins first, then factors: the order a second-factor sign-in takes them, so a racing one waits instead of deadlocking.
        await createPendingRepo(trx).deleteForUser(userId);
        const manage = createManageRepo(trx);
        const factors = await manage.deleteAllFactors(userId);
        const recoveryCodes = await manage.deleteRecoveryCodes(userId);
        const { apiTokensEnded } = await deps.endAccess(trx, userId);
        await deps.due.refreshUser(trx, userId, clock.now());
        await audit.append(trx, {
          actor,
          action: 'mfa.reset',
          targetType: 'user',
          targetId: userId,
          data: { factors, recovery_codes: recoveryCodes, api_tokens_ended: apiTokensEnded, ...(stepUp ? { step_up: stepUp } : {}) },
        });
        return { factors, recovery_codes: recoveryCodes };
      });
    },
  };
}
export type MfaAdminService = ReturnType<typeof createMfaAdminService>;
