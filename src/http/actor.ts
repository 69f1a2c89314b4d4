/** Who is calling. Resolved once per request by the auth plugin. */
export interface Actor {
  userId: string;
  isAdmin: boolean;
  /** 'slack': a button press of a linked Slack user (src/modules/slack), verified by Slack's signature. */
  via: 'session' | 'token' | 'slack';
  sessionId?: string;
  /** The API token the caller used, when via is 'token'. */
  tokenId?: string;
  /** The bootstrap password must be replaced before anything else is allowed. */
  mustChangePassword: boolean;
  /** The MFA policy covers this user and they have no factor yet: only enrolment is allowed (sessions and API tokens alike). */
  mfaEnrolmentRequired?: boolean;
}

/** The actor of work nobody asked for: the worker, start-up, expiry. */
export const SYSTEM = 'system' as const;
export type AuditActor = Actor | typeof SYSTEM;
