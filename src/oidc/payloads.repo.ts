import type { Executor } from '../db/database.ts';

/**
 * What other modules may do to the provider's stored state (oidc_payloads, which this
 * module's adapter writes), each in the caller's transaction.
 */
export function createOidcPayloadsRepo(db: Executor) {
  return {
    /** Ends a user's provider sessions (portal and OIDC share one sign-in); grants and tokens stay. */
    deleteSessionsOf: async (userId: string): Promise<void> => {
      await db.deleteFrom('oidc_payloads').where('model', '=', 'Session').where('account_id', '=', userId).execute();
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
