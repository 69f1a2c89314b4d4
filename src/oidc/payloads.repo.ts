import type { Executor } from '../db/database.ts';

/**
 * What other modules may do to the provider's stored state (oidc_payloads, which this
 * module's adapter writes), each in the caller's transaction.
 */
export function createOidcPayloadsRepo(db: Executor) {
  return {
    /**
     * Ends a user's provider sessions (portal and OIDC share one sign-in); grants and tokens stay.
     * Answers the (client, sid) pairs of the sessions that ended, for back-channel logout.
     */
    deleteSessionsOf: (userId: string): Promise<EndedSession[]> => deleteSessions(db, userId),

    /** Ends a user's OIDC sessions, grants, codes and tokens in every application (their access ends); answers the sessions' (client, sid) pairs. */
    deleteAllOf: async (userId: string): Promise<EndedSession[]> => {
      const ended = await deleteSessions(db, userId);
      await db.deleteFrom('oidc_payloads').where('account_id', '=', userId).execute();
      return ended;
    },

    /** The (client, sid) pairs of a user's live provider sessions in which `clientId` is authorized (nothing ends). */
    liveSessionsOf: async (userId: string, clientId: string, now: number): Promise<EndedSession[]> =>
      (await sessionRefsOf(db, userId, now)).filter((s) => s.client_id === clientId),

    /**
     * Ends a user's OIDC grants in one application, with every code and token issued under
     * them, and nothing else: their sessions and their grants in other applications survive.
     * Used when an access grant is revoked or retired (DESIGN, reach of an ending): tokens
     * already issued for that application must not keep its claims, and giving one access
     * back must not sign the person out of everything. A provider Grant is one user and one
     * client; its client is only in the payload, and a user holds few of them.
     */
    deleteAppGrantsOf: async (userId: string, appId: string): Promise<void> => {
      const grants = await db.selectFrom('oidc_payloads').select(['id', 'payload']).where('account_id', '=', userId).where('model', '=', 'Grant').execute();
      const ids = grants.filter((g) => clientOf(g.payload) === appId).map((g) => g.id);
      if (ids.length === 0) return;
      await db.deleteFrom('oidc_payloads').where('grant_id', 'in', ids).execute();
      await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', 'in', ids).execute();
    },

    /** Whether the user has a provider grant (consent) for this application (the SSF transmitter's subject check). */
    hasGrantFor: async (userId: string, appId: string): Promise<boolean> => {
      const grants = await db.selectFrom('oidc_payloads').select('payload').where('account_id', '=', userId).where('model', '=', 'Grant').execute();
      return grants.some((g) => clientOf(g.payload) === appId);
    },

    /** Deletes up to `chunk` expired rows (the provider no longer accepts them); returns how many went. */
    purgeExpired: async (now: number, chunk: number): Promise<number> => {
      const result = await db
        .deleteFrom('oidc_payloads')
        .where((eb) => eb(eb.refTuple('model', 'id'), 'in', eb.selectFrom('oidc_payloads as p').select(['p.model', 'p.id']).where('p.expires_at', '<=', now).limit(chunk).$asTuple('model', 'id')))
        .executeTakeFirstOrThrow();
      return Number(result.numDeletedRows);
    },
  };
}
export type OidcPayloadsRepo = ReturnType<typeof createOidcPayloadsRepo>;

/** A provider session's authorization of one client: what a logout token names. */
export interface EndedSession {
  client_id: string;
  sid: string;
}

/** The (client, sid) pairs of a user's provider sessions live at `now`. */
async function sessionRefsOf(db: Executor, userId: string, now: number): Promise<EndedSession[]> {
  const rows = await db
    .selectFrom('oidc_payloads')
    .select('payload')
    .where('model', '=', 'Session')
    .where('account_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return sessionRefsIn(rows);
}

/** Deletes a user's provider sessions and answers their (client, sid) pairs, in one statement (nothing slips in between). */
async function deleteSessions(db: Executor, userId: string): Promise<EndedSession[]> {
  return sessionRefsIn(await db.deleteFrom('oidc_payloads').where('model', '=', 'Session').where('account_id', '=', userId).returning('payload').execute());
}

/** A Session payload holds `authorizations: { [clientId]: { sid, grantId, … } }`. */
function sessionRefsIn(rows: readonly { payload: string }[]): EndedSession[] {
  const refs: EndedSession[] = [];
  for (const { payload } of rows) {
    let authorizations: unknown;
    try {
      authorizations = (JSON.parse(payload) as { authorizations?: unknown }).authorizations;
    } catch {
      continue;
    }
    if (!authorizations || typeof authorizations !== 'object') continue;
    for (const [clientId, auth] of Object.entries(authorizations as Record<string, { sid?: unknown }>)) {
      if (typeof auth?.sid === 'string') refs.push({ client_id: clientId, sid: auth.sid });
    }
  }
  return refs;
}

function clientOf(payload: string): string | undefined {
  try {
    const clientId: unknown = (JSON.parse(payload) as { clientId?: unknown }).clientId;
    return typeof clientId === 'string' ? clientId : undefined;
  } catch {
    return undefined;
  }
}
