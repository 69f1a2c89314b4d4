import type { EventPayload } from './event-payload.types.ts';

/**
 * What the outbox records when access changes for the applications (issue 13, DESIGN
 * "Signals"): the facts back-channel logout and the Shared Signals transmitter turn into
 * logout tokens and Security Event Tokens. One row per fact; each sink adds its deliveries
 * (channel `backchannel_logout` or `ssf`) in the same transaction.
 */
export const SIGNAL_TYPES = [
  /** A user's effective claims for one application changed (grant activated, extended, expired, revoked; membership, group or mapping change). */
  'signal.claims_changed',
  /** A user's sessions ended (sign-out, disable, password change, admin reset, deletion). */
  'signal.sessions_ended',
  /** A user's password changed (their own or an admin's reset). */
  'signal.credential_changed',
  'signal.account_disabled',
  'signal.account_enabled',
  'signal.account_purged',
] as const;
export type SignalType = (typeof SIGNAL_TYPES)[number];

/** Who caused it, as CAEP's `initiating_entity` names it. */
export type SignalInitiator = 'admin' | 'user' | 'policy' | 'system';

/** One (client, sid) pair of a provider session that ended, captured before the session row went. */
export interface EndedSessionRef {
  client_id: string;
  sid: string;
}

export interface SignalPayload {
  /** Stable id: the outbox row's; sinks derive their `jti`s from it. */
  id: string;
  type: SignalType;
  occurred_at: string;
  /** The user, with their e-mail as it was when the fact was recorded (a purged user has no row left). */
  subject: { user_id: string; email: string };
  /** A sentence for an administrator (CAEP `reason_admin`), never empty. */
  reason: string;
  initiator: SignalInitiator;
  /** `signal.claims_changed`: the application whose claims changed; otherwise null (every interested application). */
  app_id: string | null;
  /** `signal.claims_changed`: the claims that hold for `app_id` after the change, computed in its transaction. */
  claims: Record<string, string | string[] | boolean> | null;
  /** `signal.claims_changed`: the application's provider grants and tokens were ended too (a revocation), so its sessions get a logout token. */
  grant_ended: boolean;
  /** `signal.sessions_ended`: the provider sessions that ended, per client. */
  sessions: EndedSessionRef[];
}

/** Whatever an outbox row holds: a request lifecycle event, or a signal. */
export type OutboxPayload = EventPayload | SignalPayload;

export const isSignalPayload = (payload: OutboxPayload): payload is SignalPayload => payload.type.startsWith('signal.');
