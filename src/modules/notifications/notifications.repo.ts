import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { NotificationsTable } from '../../db/schema.ts';

export type NotificationRow = Selectable<NotificationsTable>;

/** In-app notifications. Every query is scoped to one user: nobody reads another's. */
export function createNotificationsRepo(db: Executor) {
  const own = (userId: string) => db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
  return {
    /** One per (event, user): a redelivered event adds nothing. Returns how many were new. */
    insertIgnoringDuplicates: async (rows: NotificationRow[]): Promise<number> => {
      let inserted = 0;
      // In slices well below either dialect's bound-parameter limit (9 columns a row).
      for (let i = 0; i < rows.length; i += 1000) {
        const result = await db
          .insertInto('notifications')
          .values(rows.slice(i, i + 1000))
          .onConflict((oc) => oc.columns(['event_id', 'user_id']).doNothing())
          .executeTakeFirst();
        inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
      return inserted;
    },

    /** Newest first; ids are UUIDv7, so id order is creation order and the cursor is the last id. */
    listOwn: (userId: string, opts: { limit: number; cursor?: string; unreadOnly: boolean }) => {
      let q = own(userId).orderBy('id', 'desc').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '<', opts.cursor);
      if (opts.unreadOnly) q = q.where('read_at', 'is', null);
      return q.execute();
    },

    countUnread: async (userId: string): Promise<number> =>
      Number(
        (
          await db
            .selectFrom('notifications')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('user_id', '=', userId)
            .where('read_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      ),

    findOwn: (userId: string, id: string) => own(userId).where('id', '=', id).executeTakeFirst(),

    /** Keeps the first read_at: marking twice changes nothing. */
    markRead: (userId: string, id: string, at: number) =>
      db.updateTable('notifications').set({ read_at: at }).where('user_id', '=', userId).where('id', '=', id).where('read_at', 'is', null).execute(),

    markAllRead: async (userId: string, at: number): Promise<number> => {
      const result = await db.updateTable('notifications').set({ read_at: at }).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
export type NotificationsRepo = ReturnType<typeof createNotificationsRepo>;

/**
 * Who was told in the app about some events (a request's timeline, shown to those who may see
 * the request): the event and the user, never the text. The one read across users; by event id,
 * which the (event, user) index serves.
 */
export async function inAppNoticesOfEvents(db: Executor, eventIds: readonly string[]): Promise<{ event_id: string; user_id: string }[]> {
  const rows: { event_id: string; user_id: string }[] = [];
  // In slices well below either dialect's bound-parameter limit.
  for (let i = 0; i < eventIds.length; i += 500) {
    rows.push(...(await db.selectFrom('notifications').select(['event_id', 'user_id']).where('event_id', 'in', eventIds.slice(i, i + 500)).orderBy('id').execute()));
  }
  return rows;
}
