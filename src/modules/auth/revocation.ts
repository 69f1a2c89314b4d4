import type { Executor } from '../../db/database.ts';
import { createApiTokensRepo } from '../api-tokens/api-tokens.repo.ts';
import { createSessionsRepo } from './sessions.repo.ts';

/**
 * Ends everything a user holds: portal sessions, API tokens, and the OIDC sessions,
 * grants, authorization codes and tokens stored for them, so refresh fails and
 * introspection says inactive. Used on disable, delete, password change (own or by an
 * admin) and admin removal. Only the caller's own current session may be kept (a user
 * who changes their own password stays signed in there). Returns how many API tokens ended.
 */
export async function revokeUserAccess(db: Executor, userId: string, keepSessionId?: string): Promise<{ apiTokensEnded: number }> {
  const sessions = createSessionsRepo(db);
  await (keepSessionId ? sessions.deleteForUserExcept(userId, keepSessionId) : sessions.deleteForUser(userId));
  const apiTokensEnded = await createApiTokensRepo(db).deleteAllOf(userId);
  await revokeOidcAccess(db, userId);
  return { apiTokensEnded };
}

/** Ends a user's OIDC sessions, grants and tokens in every application, keeping their portal sessions. */
async function revokeOidcAccess(db: Executor, userId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('account_id', '=', userId).execute();
}

/**
 * Ends a user's OIDC grants in one application, with every code and token issued under
 * them, and nothing else: their sessions and their grants in other applications survive.
 * Used when an access grant is revoked or retired (DESIGN, reach of an ending): tokens
 * already issued for that application must not keep its claims, and giving one access
 * back must not sign the person out of everything. A provider Grant is one user and one
 * client; its client is only in the payload, and a user holds few of them.
 */
export async function revokeAppAccess(db: Executor, userId: string, appId: string): Promise<void> {
  const grants = await db.selectFrom('oidc_payloads').select(['id', 'payload']).where('account_id', '=', userId).where('model', '=', 'Grant').execute();
  const ids = grants.filter((g) => clientOf(g.payload) === appId).map((g) => g.id);
  if (ids.length === 0) return;
  await db.deleteFrom('oidc_payloads').where('grant_id', 'in', ids).execute();
  await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', 'in', ids).execute();
}

function clientOf(payload: string): string | undefined {
  try {
    const clientId: unknown = (JSON.parse(payload) as { clientId?: unknown }).clientId;
    return typeof clientId === 'string' ? clientId : undefined;
  } catch {
    return undefined;
  }
}
