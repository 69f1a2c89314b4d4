import type { Executor } from '../../db/database.ts';
import { createApiTokensRepo } from '../api-tokens/api-tokens.repo.ts';
import { createSessionsRepo } from './sessions.repo.ts';

/**
 * Ends what a user holds in the portal and the API: portal sessions and API tokens. Used on
 * disable, delete, password change (own or by an admin) and admin removal, together with
 * the end of their OIDC sessions, grants and tokens (src/oidc's payloads repo; the
 * composition root joins the two in `UserHooks.endAccess`). Only the caller's own current
 * session may be kept (a user who changes their own password stays signed in there).
 * Returns how many API tokens ended.
 */
export async function revokeUserAccess(db: Executor, userId: string, keepSessionId?: string): Promise<{ apiTokensEnded: number }> {
  const sessions = createSessionsRepo(db);
  await (keepSessionId ? sessions.deleteForUserExcept(userId, keepSessionId) : sessions.deleteForUser(userId));
  const apiTokensEnded = await createApiTokensRepo(db).deleteAllOf(userId);
  return { apiTokensEnded };
}
