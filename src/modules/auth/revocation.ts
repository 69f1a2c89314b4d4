import type { Executor } from '../../db/database.ts';
import { createApiTokensRepo } from '../api-tokens/api-tokens.repo.ts';

/**
 * Ends everything a user holds: portal sessions, API tokens, and the OIDC sessions,
 * grants, authorization codes and tokens stored for them, so refresh fails and
 * introspection says inactive. Used on disable, delete, password change (own or by an
 * admin) and admin removal. Only the caller's own current session may be kept (a user
 * who changes their own password stays signed in there). Returns how many API tokens ended.
 */
export async function revokeUserAccess(db: Executor, userId: string, keepSessionId?: string): Promise<{ apiTokensEnded: number }> {
  let sessions = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepSessionId) sessions = sessions.where('id', '!=', keepSessionId);
  await sessions.execute();
  const apiTokensEnded = await createApiTokensRepo(db).deleteAllOf(userId);
  await revokeOidcAccess(db, userId);
  return { apiTokensEnded };
}

/**
 * Ends a user's OIDC sessions, grants and tokens but keeps their portal sessions. Used
 * when a temporary grant is revoked: tokens already issued must not keep its claims.
 */
export async function revokeOidcAccess(db: Executor, userId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('account_id', '=', userId).execute();
}
