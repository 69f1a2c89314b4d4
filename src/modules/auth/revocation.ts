import type { Executor } from '../../db/database.ts';

/**
 * Ends everything a user holds: portal sessions, and the OIDC sessions, grants,
 * authorization codes and tokens stored for them, so refresh fails and introspection
 * says inactive. Used on disable, delete, password change and admin removal.
 */
export async function revokeUserAccess(db: Executor, userId: string, keepSessionId?: string): Promise<void> {
  let sessions = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepSessionId) sessions = sessions.where('id', '!=', keepSessionId);
  await sessions.execute();
  await revokeOidcAccess(db, userId);
}

/**
 * Ends a user's OIDC sessions, grants and tokens but keeps their portal sessions. Used
 * when a temporary grant is revoked: tokens already issued must not keep its claims.
 */
export async function revokeOidcAccess(db: Executor, userId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('account_id', '=', userId).execute();
}
