import type { Clock } from '../../clock.ts';
import type { Executor } from '../../db/database.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import type { SecondFactors } from './factors.service.ts';
import { createPendingRepo } from './pending.repo.ts';

/** A password checked, a second factor to come: 5 minutes, one use. So is a passwordless sign-in's challenge. */
export const SIGN_IN_PENDING_TTL_MS = 5 * 60_000;

/**
 * The pending steps of a sign-in, for the auth module: after the password, a one-time token
 * (only its hash is stored) that a second factor turns into a session; and the challenge a
 * passwordless passkey sign-in signs.
 */
export function createSignInPending(deps: { clock: Clock; secondFactors: SecondFactors }) {
  const { clock, secondFactors } = deps;
  return {
    /** After a correct password for a user with a factor: what the client needs for the second step. */
    async issue(db: Executor, userId: string, email: string) {
      const token = randomSecret('mfa_');
      const challenge = randomSecret();
      const expiresAt = clock.now() + SIGN_IN_PENDING_TTL_MS;
      await createPendingRepo(db).put({ id: sha256(token), purpose: 'sign_in', user_id: userId, challenge, secret: null, data: JSON.stringify({ email }), expires_at: expiresAt });
      const methods = await secondFactors.methodsOf(db, userId);
      const webauthn = methods.includes('webauthn') ? await secondFactors.webauthnOptions(db, userId, challenge) : null;
      return { token, methods, webauthn, expiresAt };
    },

    /** The email a pending sign-in was for (its throttle key), without using it. */
    async emailOf(db: Executor, token: string): Promise<string | undefined> {
      const row = await createPendingRepo(db).peek(sha256(token), 'sign_in', clock.now());
      return row ? (JSON.parse(row.data ?? '{}') as { email?: string }).email : undefined;
    },

    /** Uses the pending sign-in (in the caller's transaction: rolled back, it stays usable). */
    async take(db: Executor, token: string): Promise<{ userId: string; challenge: string } | undefined> {
      const row = await createPendingRepo(db).take(sha256(token), 'sign_in', clock.now());
      return row && row.user_id ? { userId: row.user_id, challenge: row.challenge! } : undefined;
    },

    /** A challenge for signing in with a passkey alone. */
    async issuePasskey(db: Executor, id: string) {
      const challenge = randomSecret();
      const expiresAt = clock.now() + SIGN_IN_PENDING_TTL_MS;
      await createPendingRepo(db).put({ id, purpose: 'passkey_sign_in', user_id: null, challenge, secret: null, data: null, expires_at: expiresAt });
      return { options: await secondFactors.webauthnOptions(db, null, challenge), expiresAt };
    },

    async takePasskey(db: Executor, id: string): Promise<string | undefined> {
      return (await createPendingRepo(db).take(id, 'passkey_sign_in', clock.now()))?.challenge ?? undefined;
    },
  };
}
export type SignInPending = ReturnType<typeof createSignInPending>;
