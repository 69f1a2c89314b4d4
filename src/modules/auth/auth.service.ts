import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { createUsersRepo, type UserRow } from '../users/users.repo.ts';
import type { FactorMethod, SecondFactors, SignInPending } from '../mfa/index.ts';
import { type Actor } from '../../http/actor.ts';
import { createSessionsRepo } from './sessions.repo.ts';
import { createSignInGuard, openSession, type SignedIn } from './sign-in-guard.ts';
import { createSecondStep } from './second-step.ts';

export type { SignedIn } from './sign-in-guard.ts';

export interface AuthSettings {
  session: { idleMs: number; absoluteMs: number };
  loginThrottle: { maxFailures: number; ipMaxFailures: number; windowMs: number };
}

/** A correct password for a user with a second factor: no session yet, only a one-time token for the second step. */
export interface SecondFactorRequired {
  user: UserRow;
  pending: string;
  methods: FactorMethod[];
  webauthn: PublicKeyCredentialRequestOptionsJSON | null;
  expiresAt: number;
}

export type SignInOutcome = ({ kind: 'signed_in' } & SignedIn) | ({ kind: 'second_factor' } & SecondFactorRequired);

export const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'the email or password is not correct');

/**
 * What modules above auth must do, in the same transaction. src/oidc sits above auth (it
 * reads portal sessions), so auth calls it through this hook, not an import.
 */
export interface AuthHooks {
  /** The user signed out of the portal: their provider sessions end too (src/oidc owns them). */
  signedOut?(trx: Tx, userId: string): Promise<void>;
}

/** Second factors at sign-in (src/modules/mfa): checking them, the pending step, and whether the MFA policy makes the user enrol first. */
export interface SignInFactors {
  secondFactors: SecondFactors;
  pending: SignInPending;
  /** Recomputes (and returns) whether the MFA policy requires this user to enrol before anything else. */
  refreshEnrolmentDue(trx: Tx, userId: string, now: number): Promise<boolean>;
}

export function createAuthService(core: Pick<Core, 'db' | 'clock' | 'audit' | 'passwords'>, settings: AuthSettings, hooks: AuthHooks, factors: SignInFactors) {
  const { db, clock, audit, passwords } = core;
  const guard = createSignInGuard(core, settings.loginThrottle);
  const secondStep = createSecondStep(core, settings, guard, factors);

  return {
    /**
     * Checks a password. Each attempt is first reserved in the per-IP and per-account
     * throttles; only then is the password hashed. Failures all look the same, so no account
     * can be probed, and an unknown account costs the same hashing. A user without a factor
     * gets a session; a user with one gets a pending sign-in that a factor completes.
     */
    async signIn(emailInput: string, password: string, ip: string): Promise<SignInOutcome> {
      const email = emailInput.trim().toLowerCase();
      const reserved = await guard.reserve({ email, ip });
      const user = await createUsersRepo(db).findByEmail(email);
      const check = await passwords.verify(password, user?.password_hash ?? null);
      if (!user || !check.ok || user.disabled === 1) {
        await guard.failed(reserved, { email, ip, userId: user?.id ?? null });
        throw invalidCredentials();
      }
      // A hash made at an older, weaker cost is replaced now that we hold the password.
      const rehashed = check.needsRehash ? await passwords.hash(password) : undefined;
      const hasFactor = await factors.secondFactors.hasFactor(db, user.id);
      await guard.release(reserved, !hasFactor);

      const now = clock.now();
      return db.transaction().execute(async (trx): Promise<SignInOutcome> => {
        if (rehashed) {
          // Only if the password is still the one just checked (a concurrent change wins).
          await createUsersRepo(trx).rehashPassword(user.id, user.password_hash, rehashed);
        }
        if (hasFactor) {
          const pending = await factors.pending.issue(trx, user.id, email);
          return { kind: 'second_factor', user, pending: pending.token, methods: pending.methods, webauthn: pending.webauthn, expiresAt: pending.expiresAt };
        }
        const signedIn = await openSession(trx, user, ['pwd'], now, settings.session.absoluteMs);
        signedIn.mfaEnrolmentRequired = await factors.refreshEnrolmentDue(trx, user.id, now);
        await audit.append(trx, {
          actor: { userId: user.id, isAdmin: user.is_admin === 1, via: 'session', mustChangePassword: false },
          action: 'session.created',
          targetType: 'user',
          targetId: user.id,
          data: { ip, amr: signedIn.amr, ...(rehashed ? { password_rehashed: true } : {}) },
        });
        return { kind: 'signed_in', ...signedIn };
      });
    },

    /** The second step: a pending sign-in and a factor make a session. */
    completeSecondFactor: secondStep.complete,
    /** Options for signing in with a passkey alone. */
    passkeyOptions: secondStep.passkeyOptions,
    signInWithPasskey: secondStep.signInWithPasskey,

    /** Portal and OIDC share one sign-in: signing out ends the user's OIDC sessions too. */
    async signOut(actor: Actor, ip: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (actor.sessionId) await createSessionsRepo(trx).delete(actor.sessionId);
        await hooks.signedOut?.(trx, actor.userId);
        await audit.append(trx, { actor, action: 'session.ended', targetType: 'user', targetId: actor.userId, data: { ip } });
      });
    },

    async csrfTokenOf(sessionId: string): Promise<string | undefined> {
      const row = await db.selectFrom('sessions').select('csrf_token').where('id', '=', sessionId).executeTakeFirst();
      return row?.csrf_token;
    },

    /** How the session's user signed in (RFC 8176 values), for OIDC's amr and acr when a live portal session is reused. Empty when unknown. */
    amrOfSession: (sessionId: string) => createSessionsRepo(db).amrOf(sessionId),
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
