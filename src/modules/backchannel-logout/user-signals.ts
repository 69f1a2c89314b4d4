import type { AccessSignal } from '../signals/signals.types.ts';
import type { EndedSessionRef, UserAccessChange } from '../users/users.service.ts';

/** Plain sentences for an administrator (CAEP `reason_admin`), per kind of change. */
const REASONS = {
  disabled: { fact: 'Disabled by an administrator', sessions: 'Sessions ended: the account was disabled by an administrator' },
  enabled: { fact: 'Enabled by an administrator', sessions: '' },
  deleted: { fact: 'Deleted by an administrator', sessions: 'Sessions ended: the account was deleted by an administrator' },
  password_changed: { fact: 'The user changed their password', sessions: 'Sessions ended: the user changed their password' },
  password_reset: { fact: 'An administrator reset the password', sessions: 'Sessions ended: an administrator reset the password' },
  admin_removed: { fact: '', sessions: 'Sessions ended: administrator rights were removed' },
} as const;

const FACT = { disabled: 'account_disabled', enabled: 'account_enabled', deleted: 'account_purged', password_changed: 'credential_changed', password_reset: 'credential_changed' } as const;

/**
 * The signals of a change to a user (DESIGN "Signals"): disable → account_disabled +
 * sessions_ended; enable → account_enabled; delete → account_purged + sessions_ended;
 * password change (own or reset) → credential_changed + sessions_ended; removal of the admin
 * flag → sessions_ended. The sessions ended carry the provider sessions captured as they went.
 */
export function userSignals(change: UserAccessChange): AccessSignal[] {
  const { userId, email, by: initiator } = change;
  const signals: AccessSignal[] = [];
  for (const kind of change.kinds) {
    if (kind !== 'admin_removed') signals.push({ type: FACT[kind], userId, email, reason: REASONS[kind].fact, initiator });
  }
  const why = change.kinds.find((k) => REASONS[k].sessions !== '');
  if (change.sessions && why) signals.push({ type: 'sessions_ended', userId, email, reason: REASONS[why].sessions, initiator, sessions: change.sessions });
  return signals;
}

/** A sign-out (portal, or the provider's end-session): the user's sessions ended by their own hand. */
export function signOutSignal(userId: string, sessions: EndedSessionRef[], via: 'portal' | 'oidc'): AccessSignal {
  return {
    type: 'sessions_ended',
    userId,
    reason: via === 'portal' ? 'The user signed out of the portal' : 'The user signed out through an application (OpenID Connect end session)',
    initiator: 'user',
    sessions,
  };
}
