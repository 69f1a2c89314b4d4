import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { ApiTokensTable } from '../../db/schema.ts';
import { unexpired } from '../../db/expiry.ts';
import { neverDeleted } from '../../db/names.ts';
import { enrolmentDueQuery } from '../mfa/index.ts';
import { activeUsersQuery, peopleQuery } from '../users/users.repo.ts';

export type ApiTokenRow = Selectable<ApiTokensTable>;

/** API tokens: only the SHA-256 of a token is stored; the auth plugin looks tokens up by that hash. */
export function createApiTokensRepo(db: Executor) {
  return {
    /** The token's owner, if the token is live and its owner active. */
    findLiveByHash: (hash: string, now: number) =>
      db
        .selectFrom('api_tokens')
        .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'api_tokens.user_id')
        // The MFA policy holds an API token of a user who must enrol to the same rule as a session (one joined read).
        .leftJoin(enrolmentDueQuery(db).as('due'), 'due.user_id', 'api_tokens.user_id')
        .select(['api_tokens.id', 'api_tokens.user_id', 'api_tokens.last_used_at', 'u.is_admin', 'due.user_id as mfa_due_user'])
        .where('api_tokens.token_hash', '=', hash)
        .where(unexpired('api_tokens.expires_at', now))
        .executeTakeFirst(),
    /** Of these tokens, the ones still live (unexpired, unrevoked, user active), with the owner's admin flag. */
    findLiveMany: (ids: readonly string[], now: number) =>
      ids.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('api_tokens')
            .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'api_tokens.user_id')
            .select(['api_tokens.id', 'u.is_admin'])
            .where('api_tokens.id', 'in', [...ids])
            .where(unexpired('api_tokens.expires_at', now))
            .execute(),
    findById: (id: string) => db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst(),
    /** One user's tokens (or everyone's, with userId null), oldest first, with the owner's email; limit + 1 for toPage(). */
    list: (userId: string | null, opts: { limit: number; cursor?: string }) => {
      let q = db
        .selectFrom('api_tokens')
        .innerJoin(peopleQuery(db).as('u'), 'u.id', 'api_tokens.user_id')
        .selectAll('api_tokens')
        .select('u.email as user_email')
        .orderBy('api_tokens.id')
        .limit(opts.limit + 1);
      if (userId !== null) q = q.where('api_tokens.user_id', '=', userId);
      if (opts.cursor) q = q.where('api_tokens.id', '>', opts.cursor);
      return q.execute();
    },
    insert: (row: { id: string; user_id: string; name: string; token_hash: string; expires_at: number | null; created_at: number }) =>
      db.insertInto('api_tokens').values({ ...row, last_used_at: null }).execute(),
    touch: (id: string, now: number) => db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute(),
    delete: (id: string) => db.deleteFrom('api_tokens').where('id', '=', id).execute(),
    /** Ends every token of a user (disable, delete, password change, admin removal); returns how many. */
    deleteAllOf: async (userId: string) => Number((await db.deleteFrom('api_tokens').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows),
  };
}
export type ApiTokensRepo = ReturnType<typeof createApiTokensRepo>;

/** Every API token's id and name: the audit log's names. */
export const apiTokenNamesQuery = (db: Executor) => db.selectFrom('api_tokens').select(['id', 'name', neverDeleted()]);
