import type { Core } from '../../core.ts';
import { AppError } from '../../http/errors.ts';
import { newId } from '../../security/ids.ts';
import { amrOf, type FactorProof } from '../mfa/index.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import type { OpenSessionIn, SignInFactors } from './auth.service.ts';
import type { SignedIn, SignInGuard } from './sign-in-guard.ts';

const pendingGone = () => new AppError(401, 'sign_in_expired', 'this sign-in has expired or was already used: enter your password again');
const wrongFactor = () => new AppError(401, 'invalid_second_factor', 'the second factor did not check');
const passkeyRefused = () => new AppError(401, 'invalid_passkey', 'this passkey cannot sign in on its own here');

/** Thrown inside the transaction so it rolls back (the pending sign-in stays usable), caught outside. */
class FactorRefused extends Error {}

/**
 * The steps of a sign-in after the password (the second factor) and instead of it (a
 * passwordless passkey). Each check runs in the transaction that opens the session, so a
 * proof or pending sign-in used twice at once makes one session, and a wrong factor counts
 * against the same throttle as a wrong password.
 */
export function createSecondStep(core: Pick<Core, 'db' | 'clock'>, guard: SignInGuard, factors: SignInFactors, sessionFor: OpenSessionIn) {
  const { db, clock } = core;

  return {
    async complete(pendingToken: string, proof: FactorProof, ip: string): Promise<SignedIn> {
      const email = await factors.pending.emailOf(db, pendingToken);
      if (email === undefined) throw pendingGone();
      const reserved = await guard.reserve({ email, ip });
      let userId: string | null = null;
      try {
        const signedIn = await db.transaction().execute(async (trx) => {
          const pending = await factors.pending.take(trx, pendingToken);
          if (!pending) throw pendingGone();
          userId = pending.userId;
          const user = await createUsersRepo(trx).findById(pending.userId);
          if (!user || user.disabled === 1) throw pendingGone();
          const use = await factors.secondFactors.verify(trx, pending.userId, proof, pending.challenge);
          if (!use) throw new FactorRefused();
          return sessionFor(trx, user, ['pwd', ...amrOf(use), 'mfa'], ip, { method: use.method, factor_id: use.factorId });
        });
        await guard.release(reserved, true);
        return signedIn;
      } catch (error) {
        if (!(error instanceof FactorRefused)) {
          await guard.release(reserved, false);
          throw error;
        }
        await guard.failed(reserved, { email, ip, userId, step: 'second_factor' });
        throw wrongFactor();
      }
    },

    async passkeyOptions() {
      const id = newId(clock);
      const issued = await factors.pending.issuePasskey(db, id);
      return { challengeId: id, options: issued.options, expiresAt: issued.expiresAt };
    },

    /** A discoverable passkey registered for passwordless use, with the user verified by the authenticator. */
    async signInWithPasskey(challengeId: string, response: unknown, ip: string): Promise<SignedIn> {
      const reserved = await guard.reserve({ email: null, ip });
      try {
        const signedIn = await db.transaction().execute(async (trx) => {
          const challenge = await factors.pending.takePasskey(trx, challengeId);
          if (challenge === undefined) throw pendingGone();
          const use = await factors.secondFactors.verify(trx, null, { webauthn: response }, challenge);
          if (!use || !use.userVerified || use.factorId === null || !(await factors.secondFactors.isPasswordless(trx, use.factorId))) throw new FactorRefused();
          const user = await createUsersRepo(trx).findById(use.userId);
          if (!user || user.disabled === 1) throw new FactorRefused();
          return sessionFor(trx, user, amrOf(use), ip, { method: use.method, factor_id: use.factorId });
        });
        await guard.release(reserved, true);
        return signedIn;
      } catch (error) {
        if (!(error instanceof FactorRefused)) {
          await guard.release(reserved, false);
          throw error;
        }
        await guard.failed(reserved, { email: null, ip, userId: null, step: 'passkey' });
        throw passkeyRefused();
      }
    },
  };
}
