import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { createUsersRepo, type UserRow } from '../users/users.repo.ts';
import type { FactorMethod, SecondFactors, SignInPending } from '../mfa/index.ts';
import { type Actor } from '../../http/actor.ts';
import { createSessionsRepo } from './sessions.repo.ts';
import { createSignInGuard, openSession as openSessionIn, type SignedIn } from './sign-in-guard.ts';
import { createSecondStep } from './second-step.ts';

export type { SignedIn } from './sign-in-guard.ts';

export interface AuthSettings {
  session: { idleMs: number; absoluteMs: number };
  loginThrottle: { maxFailures: number; ipMaxFailures: number; windowMs: number };
}

/** A password that checked: the user, whether its hash was just replaced by one at today's cost, and whether a second step must follow. */
export interface PasswordChecked {
  user: UserRow;
  passwordRehashed: boolean;
  secondStep: boolean;
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

/** Opens a session in `trx` for a user who signed in `amr`-wise, with its audit event (`audit` adds to its data). */
export type OpenSessionIn = (trx: Tx, user: UserRow, amr: readonly string[], ip: string, audit?: Record<string, unknown>) => Promise<SignedIn>;

export function createAuthService(core: Pick<Core, 'db' | 'clock' | 'audit' | 'passwords'>, settings: AuthSettings, hooks: AuthHooks, factors: SignInFactors) {
  const { db, clock, audit, passwords } = core;
  const guard = createSignInGuard(core, settings.loginThrottle);


  /**
   * Checks a password. Each attempt is first reserved in the per-IP and per-account
   * throttles; only then is the password hashed. Failures all look the same, so no account
   * can be probed, and an unknown account costs the same hashing. `secondStep` says whether a
   * factor must follow (the user has one): then only this attempt is given back to the
   * throttle, so guessing codes between correct passwords keeps counting.
   */
  async function checkPassword(emailInput: string, password: string, ip: string): Promise<PasswordChecked> {
    const email = emailInput.trim().toLowerCase();
    const reserved = await guard.reserve({ email, ip });
    const user = await createUsersRepo(db).findByEmail(email);
    const check = await passwords.verify(password, user?.password_hash ?? null);
    if (!user || !check.ok || user.disabled === 1) {
      await guard.failed(reserved, { email, ip, userId: user?.id ?? null });
      throw invalidCredentials();
    }
    const secondStep = await factors.secondFactors.hasFactor(db, user.id);
    await guard.release(reserved, !secondStep);
    // A hash made at an older, weaker cost is replaced now that we hold the password;
    // only if the password is still the one just checked (a concurrent change wins).
    if (check.needsRehash) {
      const rehashed = await passwords.hash(password);
      await createUsersRepo(db).rehashPassword(user.id, user.password_hash, rehashed);
      return { user: { ...user, password_hash: rehashed }, passwordRehashed: true, secondStep };
    }
    return { user, passwordRehashed: false, secondStep };
  }

  /**
   * Opens a new session for a user who has signed in (a fresh id every time, so a planted
   * cookie is worth nothing); `amr` says how (RFC 8176: ['pwd'], ['pwd','otp','mfa'] …), and
   * is kept with the session so that reusing it never claims more than was done. It also
   * records whether the MFA policy holds the user back until they enrol.
   */
  const sessionIn: OpenSessionIn = async (trx, user, amr, ip, extra = {}) => {
    const now = clock.now();
    const signedIn = await openSessionIn(trx, user, [...amr], now, settings.session.absoluteMs);
    signedIn.mfaEnrolmentRequired = await factors.refreshEnrolmentDue(trx, user.id, now);
    await audit.append(trx, {
      actor: { userId: user.id, isAdmin: user.is_admin === 1, via: 'session', mustChangePassword: false },
      action: 'session.created',
      targetType: 'user',
      targetId: user.id,
      data: { ip, amr: signedIn.amr, ...extra },
    });
    return signedIn;
  };
  const openSession = (user: UserRow, ip: string, amr: readonly string[], opts: { passwordRehashed?: boolean } = {}): Promise<SignedIn> =>
    db.transaction().execute((trx) => sessionIn(trx, user, amr, ip, opts.passwordRehashed ? { password_rehashed: true } : {}));
  const secondStep = createSecondStep(core, guard, factors, sessionIn);

  return {
    checkPassword,
    openSession,

    /**
     * The portal's sign-in: a user without a factor gets a session; a user with one gets a
     * pending sign-in (one-time, a few minutes) that a factor completes (`completeSecondFactor`).
     */
    async signIn(emailInput: string, password: string, ip: string): Promise<SignInOutcome> {
      const { user, passwordRehashed, secondStep: needsFactor } = await checkPassword(emailInput, password, ip);
      if (!needsFactor) return { kind: 'signed_in', ...(await openSession(user, ip, ['pwd'], { passwordRehashed })) };
      // The second step counts against the same throttle key as the password did.
      const pending = await db.transaction().execute((trx) => factors.pending.issue(trx, user.id, emailInput.trim().toLowerCase()));
      return { kind: 'second_factor', user, pending: pending.token, methods: pending.methods, webauthn: pending.webauthn, expiresAt: pending.expiresAt };
    },

    /** The second step: a pending sign-in and a factor make a session. */
    completeSecondFactor: secondStep.complete,
    /** Options for signing in with a passkey alone. */
    passkeyOptions: secondStep.passkeyOptions,
    signInWithPasskey: secondStep.signInWithPasskey,

    /**
     * A second-factor (or passkey) attempt counts against the same sign-in throttle as a
     * password: reserved before `attempt` runs (429 over the limit), audited as a failed
     * sign-in when it does not pass, and the account starts afresh when it does. `userId`
     * null: a passkey sign-in whose account is not known yet counts only against the IP.
     */
    async throttledFactorCheck(userId: string | null, ip: string, attempt: () => Promise<boolean>): Promise<boolean> {
      const email = userId === null ? null : ((await createUsersRepo(db).findById(userId))?.email ?? null);
      const reserved = await guard.reserve({ email, ip });
      let passed: boolean;
      try {
        passed = await attempt();
      } catch (error) {
        await guard.release(reserved, false);
        throw error;
      }
      if (!passed) {
        await guard.failed(reserved, { email, ip, userId, step: userId === null ? 'passkey' : 'second_factor' });
        return false;
      }
      await guard.release(reserved, true);
      return true;
    },

    /** The user a passkey sign-in found, if it may sign in (exists, not disabled). */
    async signInUser(userId: string): Promise<UserRow | undefined> {
      const user = await createUsersRepo(db).findById(userId);
      return user && user.disabled !== 1 ? user : undefined;
    },

    /** How and when a session was signed in (RFC 8176 amr values, epoch ms). */
    sessionSignIn: (sessionId: string) => createSessionsRepo(db).signInOf(sessionId),

    /**
     * A live session's user passed a second factor on the sign-in page (an application asked
     * for more): the session now says so, audited. Only the session's own user can raise it.
     */
    async raiseSessionAmr(sessionId: string, userId: string, amr: readonly string[], ip: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await createSessionsRepo(trx).setAmr(sessionId, userId, amr);
        const user = await createUsersRepo(trx).findById(userId);
        await audit.append(trx, {
          actor: { userId, isAdmin: user?.is_admin === 1, via: 'session', sessionId, mustChangePassword: user?.must_change_password === 1 },
          action: 'session.stepped_up',
          targetType: 'user',
          targetId: userId,
          data: { ip, amr: [...amr] },
        });
      });
    },

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

    /** How the session's user signed in (RFC 8176 values; a session from before issue 15 was password only). Empty when unknown. */
    amrOfSession: async (sessionId: string) => (await createSessionsRepo(db).signInOf(sessionId))?.amr ?? [],
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
