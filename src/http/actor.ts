/** Who is calling. Resolved once per request by the auth plugin. */
export interface Actor {
  userId: string;
  isAdmin: boolean;
  /** 'slack': a button press of a linked Slack user (src/modules/slack), verified by Slack's signature. 'cli': an access token the provider issued to the built-in command-line client (issue 15). */
  via: 'session' | 'token' | 'slack' | 'cli';
  sessionId?: string;
  /** The API token the caller used, when via is 'token'; the CLI's provider grant, when via is 'cli'. */
  tokenId?: string;
  /** The bootstrap password must be replaced before anything else is allowed. */
  mustChangePassword: boolean;
  /** The MFA policy covers this user and they have no factor yet: only enrolment is allowed (sessions and API tokens alike). */
  mfaEnrolmentRequired?: boolean;
}

/** The actor of work nobody asked for: the worker, start-up, expiry. */
export const SYSTEM = 'system' as const;
export type AuditActor = Actor | typeof SYSTEM;
