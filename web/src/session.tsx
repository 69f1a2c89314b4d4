import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { del, onEnrolmentRequired, onUnauthenticated, setCsrfToken } from './api/client.ts';
import { keys } from './api/queries.ts';
import type { Session, User } from './api/types.ts';
import { setPreferredTimeZone, setServerTime } from './lib/time.ts';

interface SessionValue {
  user: User;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

/** The signed-in user. Only used below <SessionProvider>, which renders for a signed-in user only. */
export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  const client = useQueryClient();
  // The CSRF token rides along with every unsafe request of this session.
  setCsrfToken(session.csrf_token);
  setServerTime(session.server_time);
  // The user's zone for every <Time>; null (or a zone this browser lacks) keeps the browser's.
  setPreferredTimeZone(session.user.time_zone);

  useEffect(
    () =>
      onUnauthenticated(() => {
        // The session ended elsewhere (sign-out in another tab, idle timeout): back to sign-in.
        client.setQueryData(keys.session, null);
      }),
    [client],
  );
  // The MFA policy began to cover this user: read the session again, which then says so.
  useEffect(() => onEnrolmentRequired(() => void client.invalidateQueries({ queryKey: keys.session })), [client]);

  const signOut = async () => {
    try {
      await del('/session');
    } finally {
      setCsrfToken('');
      // Back to the sign-in page, and nothing of this user's data stays in memory.
      client.setQueryData(keys.session, null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== keys.session[0] });
    }
  };

  return <SessionContext.Provider value={{ user: session.user, signOut }}>{children}</SessionContext.Provider>;
}

/** Stores a session that sign-in returned, so the app renders for it at once. */
export function useAcceptSession() {
  const client = useQueryClient();
  return (session: Session) => {
    setCsrfToken(session.csrf_token);
    setServerTime(session.server_time);
    setPreferredTimeZone(session.user.time_zone);
    client.setQueryData(keys.session, session);
  };
}
