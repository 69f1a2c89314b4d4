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
  };
}
export type OidcPayloadsRepo = ReturnType<typeof createOidcPayloadsRepo>;
