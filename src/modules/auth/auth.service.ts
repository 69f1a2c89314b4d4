import type { Core } from '../../core.ts';
import { AppError, tooManyRequests } from '../../http/errors.ts';
import { verifyPassword } from '../../security/passwords.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import { createUsersRepo, type UserRow } from '../users/users.repo.ts';
import { createSessionsRepo } from './sessions.repo.ts';
import { createLoginThrottle } from './throttle.ts';

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

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'the email or password is not correct');

export function createAuthService(core: Core, settings: AuthSettings) {
  const { db, clock, audit } = core;
  const { windowMs } = settings.loginThrottle;
  // An IP may serve many people (an office behind NAT), so it gets a higher limit than one account.
  const accountThrottle = createLoginThrottle(db, { maxFailures: settings.loginThrottle.maxFailures, windowMs });
  const ipThrottle = createLoginThrottle(db, { maxFailures: settings.loginThrottle.ipMaxFailures, windowMs });

  return {
    /**
     * Checks a password and opens a new session (a fresh id at every sign-in, so a
     * planted cookie is worth nothing). Failures are counted per account and per IP and
     * all look the same, so no account can be probed.
     */
    async signIn(emailInput: string, password: string, ip: string): Promise<SignedIn> {
      const email = emailInput.trim().toLowerCase();
      const now = clock.now();
      const accountKey = `account:${email}`;
      const ipKey = `ip:${ip}`;
      const wait = Math.max(await accountThrottle.retryAfter(accountKey, now), await ipThrottle.retryAfter(ipKey, now));
      if (wait > 0) throw tooManyRequests(wait);

      const user = await createUsersRepo(db).findByEmail(email);
      const ok = await verifyPassword(password, user?.password_hash ?? null);
      if (!user || !ok || user.disabled === 1) {
        await accountThrottle.recordFailure(accountKey, now);
        await ipThrottle.recordFailure(ipKey, now);
        throw invalidCredentials();
      }
      await accountThrottle.reset(accountKey);
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
        });
        await audit.append(trx, { actor: { userId: user.id, isAdmin: user.is_admin === 1, via: 'session', mustChangePassword: false }, action: 'session.created', targetType: 'user', targetId: user.id, data: { ip } });
      });
      return { user, sessionToken, sessionId, csrfToken };
    },

    /** Portal and OIDC share one sign-in: signing out ends the user's OIDC sessions too. */
    async signOut(sessionId: string, userId: string): Promise<void> {
      await createSessionsRepo(db).delete(sessionId);
      await db.deleteFrom('oidc_payloads').where('model', '=', 'Session').where('account_id', '=', userId).execute();
    },

    async csrfTokenOf(sessionId: string): Promise<string | undefined> {
      const row = await db.selectFrom('sessions').select('csrf_token').where('id', '=', sessionId).executeTakeFirst();
      return row?.csrf_token;
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
