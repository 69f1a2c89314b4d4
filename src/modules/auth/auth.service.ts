import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { createUsersRepo, type UserRow } from '../users/users.repo.ts';
import { type Actor } from '../../http/actor.ts';
import { createSessionsRepo } from './sessions.repo.ts';
import { createSignInGuard, openSession as openSessionIn, type SignedIn } from './sign-in-guard.ts';

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

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'the email or password is not correct');

/**
 * What modules above auth must do, in the same transaction. src/oidc sits above auth (it
 * reads portal sessions), so auth calls it through this hook, not an import.
 */
export interface AuthHooks {
  /** The user signed out of the portal: their provider sessions end too (src/oidc owns them). */
  signedOut?(trx: Tx, userId: string): Promise<void>;
}

export function createAuthService(core: Pick<Core, 'db' | 'clock' | 'audit' | 'passwords'>, settings: AuthSettings, hooks: AuthHooks = {}) {
  const { db, clock, audit, passwords } = core;
  const guard = createSignInGuard(core, settings.loginThrottle);

  /**
   * Checks a password. Each attempt is first reserved in the per-IP and per-account
   * throttles; only then is the password hashed. Failures all look the same, so no account
   * can be probed, and an unknown account costs the same hashing. `needsSecondStep` says
   * whether a factor must follow: then only this attempt is given back to the throttle, so
   * guessing codes between correct passwords keeps counting.
   */
  async function checkPassword(emailInput: string, password: string, ip: string, needsSecondStep: (user: UserRow) => Promise<boolean> = async () => false): Promise<PasswordChecked> {
    const email = emailInput.trim().toLowerCase();
    const reserved = await guard.reserve({ email, ip });
    const user = await createUsersRepo(db).findByEmail(email);
    const check = await passwords.verify(password, user?.password_hash ?? null);
    if (!user || !check.ok || user.disabled === 1) {
      await guard.failed(reserved, { email, ip, userId: user?.id ?? null });
      throw invalidCredentials();
    }
    const secondStep = await needsSecondStep(user);
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
   * is kept with the session so that reusing it never claims more than was done.
   */
  async function openSession(user: UserRow, ip: string, amr: readonly string[], opts: { passwordRehashed?: boolean } = {}): Promise<SignedIn> {
    return db.transaction().execute(async (trx) => {
      const signedIn = await openSessionIn(trx, user, [...amr], clock.now(), settings.session.absoluteMs);
      await audit.append(trx, {
        actor: { userId: user.id, isAdmin: user.is_admin === 1, via: 'session', mustChangePassword: false },
        action: 'session.created',
        targetType: 'user',
        targetId: user.id,
        data: { ip, amr: signedIn.amr, ...(opts.passwordRehashed ? { password_rehashed: true } : {}) },
      });
      return signedIn;
    });
  }

  return {
    checkPassword,
    openSession,

    /** Checks a password and opens a password-only session. */
    async signIn(emailInput: string, password: string, ip: string): Promise<SignedIn> {
      const { user, passwordRehashed } = await checkPassword(emailInput, password, ip);
      return openSession(user, ip, ['pwd'], { passwordRehashed });
    },

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
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
