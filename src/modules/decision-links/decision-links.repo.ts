import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { DecisionLinksTable } from '../../db/schema.ts';

export type DecisionLinkRow = Selectable<DecisionLinksTable>;

export function createDecisionLinksRepo(db: Executor) {
  return {
    insert: (row: DecisionLinkRow) => db.insertInto('decision_links').values(row).execute(),
    find: (tokenHash: string) => db.selectFrom('decision_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(),
    /** Spends it once: only its own user's, unexpired, never spent; of two completions at once, one wins. */
    async spend(tokenHash: string, userId: string, now: number): Promise<boolean> {
      const result = await db
        .updateTable('decision_links')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    /** Links that ended before `before` (expired or spent long ago) are of no use any more. */
    async purgeExpired(before: number, chunk: number): Promise<number> {
      const hashes = db.selectFrom('decision_links').select('token_hash').where('expires_at', '<', before).limit(chunk);
      const result = await db.deleteFrom('decision_links').where('token_hash', 'in', hashes).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
