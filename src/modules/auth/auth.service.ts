import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError, tooManyRequests } from '../../http/errors.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import { createUsersRepo, type UserRow } from '../users/users.repo.ts';
import { SYSTEM, type Actor } from '../../http/actor.ts';
import { createSessionsRepo } from './sessions.repo.ts';
import { claimFailureAudit, createLoginThrottle, type LoginThrottle, type Reservation } from './throttle.ts';

export interface AuthSettings {
  session: { idleMs: number; absoluteMs: number };
  loginThrottle: { maxFailures: number; ipMaxFailures: number; windowMs: number };
}

export interface SignedIn {
  user: UserRow;
  /** The cookie value; only its hash is stored. */
  sessionToken: string;
  sessionId: string;
  csrfToken: string;
}

/** A password that checked: the user, and whether its hash was just replaced by one at today's cost. */
export interface PasswordChecked {
  user: UserRow;
  passwordRehashed: boolean;
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

/** What a throttle key stands for, in audit events. */
type KeyKind = 'account' | 'ip';

export function createAuthService(core: Pick<Core, 'db' | 'clock' | 'audit' | 'passwords'>, settings: AuthSettings, hooks: AuthHooks = {}) {
  const { db, clock, audit, passwords } = core;
  const { windowMs } = settings.loginThrottle;
  // An IP may serve many people (an office behind NAT), so it gets a higher limit than one account.
  const accountThrottle = createLoginThrottle(db, { maxFailures: settings.loginThrottle.maxFailures, windowMs });
  const ipThrottle = createLoginThrottle(db, { maxFailures: settings.loginThrottle.ipMaxFailures, windowMs });

  /** Reserves one attempt; over the limit, audits the first refusal of the window and refuses. */
  async function reserveOrRefuse(throttle: LoginThrottle, kind: KeyKind, key: string, context: { email: string; ip: string }): Promise<Reservation> {
    const reservation = await throttle.reserve(key, clock.now());
    if (reservation.allowed) return reservation;
    if (reservation.firstRefused) {
      await db.transaction().execute((trx) =>
        audit.append(trx, {
          actor: SYSTEM,
          action: 'session.sign_in_throttled',
          targetType: kind === 'account' ? 'account' : 'ip',
          targetId: null,
          data: { key: kind, ...context, window_start: new Date(reservation.windowStart).toISOString(), retry_after_secs: reservation.retryAfterSecs },
        }),
      );
    }
    throw tooManyRequests(reservation.retryAfterSecs);
  }

  /**
   * One audit event per key per window: the first failure claims the window, later
   * ones only count (the throttle row holds the count), so a burst does not queue
   * behind the audit chain's lock.
   */
  async function auditFailure(keys: Record<KeyKind, string | null>, context: { email: string; ip: string; userId: string | null }) {
    await db.transaction().execute(async (trx) => {
      // Claims first, the chain head (inside append) last.
      const won: KeyKind[] = [];
      for (const kind of ['account', 'ip'] as const) if (keys[kind] !== null && (await claimFailureAudit(trx, keys[kind]))) won.push(kind);
      for (const kind of won) {
        await audit.append(trx, {
          actor: SYSTEM,
          action: 'session.sign_in_failed',
          targetType: kind === 'account' ? 'account' : 'ip',
          targetId: kind === 'account' ? context.userId : null,
          data: { key: kind, email: context.email, ip: context.ip, first_in_window: true },
        });
      }
    });
  }

  /**
   * Checks a password, throttled: each attempt is first reserved in the per-IP and
   * per-account throttles; only then is the password hashed. Failures all look the same,
   * so no account can be probed, and an unknown account costs the same hashing.
   */
  async function checkPassword(emailInput: string, password: string, ip: string): Promise<PasswordChecked> {
    const email = emailInput.trim().toLowerCase();
    const context = { email, ip };
    const ipReservation = await reserveOrRefuse(ipThrottle, 'ip', `ip:${ip}`, context);
    const accountReservation = await reserveOrRefuse(accountThrottle, 'account', `account:${email}`, context);

    const user = await createUsersRepo(db).findByEmail(email);
    const check = await passwords.verify(password, user?.password_hash ?? null);
    if (!user || !check.ok || user.disabled === 1) {
      await auditFailure({ account: accountReservation.key, ip: ipReservation.key }, { ...context, userId: user?.id ?? null });
      throw invalidCredentials();
    }
    await accountThrottle.release(accountReservation, 'reset');
    await ipThrottle.release(ipReservation, 'own');
    // A hash made at an older, weaker cost is replaced now that we hold the password;
    // only if the password is still the one just checked (a concurrent change wins).
    if (check.needsRehash) {
      const rehashed = await passwords.hash(password);
      await createUsersRepo(db).rehashPassword(user.id, user.password_hash, rehashed);
      return { user: { ...user, password_hash: rehashed }, passwordRehashed: true };
    }
    return { user, passwordRehashed: false };
  }

  /**
   * Opens a new session for a user who has signed in (a fresh id every time, so a planted
   * cookie is worth nothing); `amr` says how (RFC 8176: ['pwd'], ['pwd','otp','mfa'] …), and
   * is kept with the session so that reusing it never claims more than was done.
   */
  async function openSession(user: UserRow, ip: string, amr: readonly string[], opts: { passwordRehashed?: boolean } = {}): Promise<SignedIn> {
    const now = clock.now();
    const sessionToken = randomSecret();
    const csrfToken = randomSecret();
    const sessionId = sha256(sessionToken);
    await db.transaction().execute(async (trx) => {
      await createSessionsRepo(trx).insert({
        id: sessionId,
        user_id: user.id,
        csrf_token: csrfToken,
        created_at: now,
        last_seen_at: now,
        expires_at: now + settings.session.absoluteMs,
        amr: JSON.stringify(amr),
      });
      await audit.append(trx, {
        actor: { userId: user.id, isAdmin: user.is_admin === 1, via: 'session', mustChangePassword: false },
        action: 'session.created',
        targetType: 'user',
        targetId: user.id,
        data: { ip, amr: [...amr], ...(opts.passwordRehashed ? { password_rehashed: true } : {}) },
      });
    });
    return { user, sessionToken, sessionId, csrfToken };
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
     * sign-in when it does not pass, given back when it does. `userId` null: a passkey
     * sign-in whose account is not known yet counts only against the IP.
     */
    async throttledFactorCheck(userId: string | null, ip: string, attempt: () => Promise<boolean>): Promise<boolean> {
      const user = userId === null ? undefined : await createUsersRepo(db).findById(userId);
      const email = user?.email ?? '';
      const context = { email, ip };
      const ipReservation = await reserveOrRefuse(ipThrottle, 'ip', `ip:${ip}`, context);
      const accountReservation = user ? await reserveOrRefuse(accountThrottle, 'account', `account:${email}`, context) : undefined;
      const passed = await attempt();
      if (!passed) {
        await auditFailure({ account: accountReservation?.key ?? null, ip: ipReservation.key }, { ...context, userId });
        return false;
      }
      if (accountReservation) await accountThrottle.release(accountReservation, 'reset');
      await ipThrottle.release(ipReservation, 'own');
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
