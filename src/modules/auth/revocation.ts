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
  await db.deleteFrom('oidc_payloads').where('account_id', '=', userId).execute();
}
