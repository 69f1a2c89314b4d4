import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { SYSTEM } from '../../http/actor.ts';
import { tooManyRequests } from '../../http/errors.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import type { UserRow } from '../users/users.repo.ts';
import { createSessionsRepo } from './sessions.repo.ts';
import { claimFailureAudit, createLoginThrottle, type LoginThrottle, type Reservation } from './throttle.ts';

export interface ThrottleSettings {
  maxFailures: number;
  ipMaxFailures: number;
  windowMs: number;
}

/** What a throttle key stands for, in audit events. */
type KeyKind = 'account' | 'ip';

/**
 * The sign-in throttle as every sign-in step uses it (password, second factor, passkey): each
 * attempt is reserved per IP and per account before anything is checked; failures are audited
 * once per key and window.
 */
export function createSignInGuard(core: Pick<Core, 'db' | 'clock' | 'audit'>, settings: ThrottleSettings) {
  const { db, clock, audit } = core;
  // An IP may serve many people (an office behind NAT), so it gets a higher limit than one account.
  const account = createLoginThrottle(db, { maxFailures: settings.maxFailures, windowMs: settings.windowMs });
  const ip = createLoginThrottle(db, { maxFailures: settings.ipMaxFailures, windowMs: settings.windowMs });

  /** Reserves one attempt; over the limit, audits the first refusal of the window and refuses. */
  async function reserveOrRefuse(throttle: LoginThrottle, kind: KeyKind, key: string, context: { email: string | null; ip: string }): Promise<Reservation> {
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

  return {
    /** One attempt for this IP and (when known) this account; 429 over either limit. */
    async reserve(context: { email: string | null; ip: string }) {
      const ipReservation = await reserveOrRefuse(ip, 'ip', `ip:${context.ip}`, context);
      const accountReservation = context.email === null ? null : await reserveOrRefuse(account, 'account', `account:${context.email}`, context);
      return { ip: ipReservation, account: accountReservation };
    },

    /**
     * After a step that passed. `complete`: the sign-in is done, so the account starts afresh.
     * Otherwise (a password with a second factor still to come) only this attempt is given
     * back, so guessing codes between correct passwords keeps counting.
     */
    async release(reserved: { ip: Reservation; account: Reservation | null }, complete: boolean) {
      if (reserved.account) await account.release(reserved.account, complete ? 'reset' : 'own');
      await ip.release(reserved.ip, 'own');
    },

    /**
     * One audit event per key per window: the first failure claims the window, later ones
     * only count (the throttle row holds the count), so a burst does not queue behind the
     * audit chain's lock.
     */
    async failed(reserved: { ip: Reservation; account: Reservation | null }, context: { email: string | null; ip: string; userId: string | null; step?: string }) {
      await db.transaction().execute(async (trx) => {
        // Claims first, the chain head (inside append) last.
        const won: { kind: KeyKind; key: string }[] = [];
        for (const [kind, r] of [['account', reserved.account], ['ip', reserved.ip]] as const) if (r && (await claimFailureAudit(trx, r.key))) won.push({ kind, key: r.key });
        for (const { kind } of won) {
          await audit.append(trx, {
            actor: SYSTEM,
            action: 'session.sign_in_failed',
            targetType: kind === 'account' ? 'account' : 'ip',
            targetId: kind === 'account' ? context.userId : null,
            data: { key: kind, email: context.email, ip: context.ip, first_in_window: true, ...(context.step ? { step: context.step } : {}) },
          });
        }
      });
    },
  };
}
export type SignInGuard = ReturnType<typeof createSignInGuard>;

export interface SignedIn {
  user: UserRow;
  /** The cookie value; only its hash is stored. */
  sessionToken: string;
  sessionId: string;
  csrfToken: string;
  /** How the user signed in (RFC 8176). */
  amr: string[];
  /** The MFA policy covers the user and they have no factor: the session may only enrol one. */
  mfaEnrolmentRequired?: boolean;
}

/** Opens a new session (a fresh id at every sign-in, so a planted cookie is worth nothing) in the caller's transaction, with how the user signed in. */
export async function openSession(trx: Tx, user: UserRow, amr: string[], now: number, absoluteMs: number): Promise<SignedIn> {
  const sessionToken = randomSecret();
  const csrfToken = randomSecret();
  const sessionId = sha256(sessionToken);
  await createSessionsRepo(trx).insert({ id: sessionId, user_id: user.id, csrf_token: csrfToken, created_at: now, last_seen_at: now, expires_at: now + absoluteMs, amr: JSON.stringify(amr) });
  return { user, sessionToken, sessionId, csrfToken, amr };
}
