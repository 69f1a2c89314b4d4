import type { Executor } from '../../db/database.ts';

export function createApiTokensRepo(db: Executor) {
  return {
    /** The token's owner, if the token is live and its owner active. */
    findLiveByHash: (hash: string, now: number) =>
      db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .select(['api_tokens.id', 'api_tokens.user_id', 'api_tokens.last_used_at', 'users.is_admin'])
        .where('api_tokens.token_hash', '=', hash)
        .where((eb) => eb.or([eb('api_tokens.expires_at', 'is', null), eb('api_tokens.expires_at', '>', now)]))
        .where('users.disabled', '=', 0)
        .where('users.deleted_at', 'is', null)
        .executeTakeFirst(),
    insert: (row: { id: string; user_id: string; name: string; token_hash: string; expires_at: number | null; created_at: number }) =>
      db.insertInto('api_tokens').values({ ...row, last_used_at: null }).execute(),
    touch: (id: string, now: number) => db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute(),
  };
}
