import type { Core } from '../../core.ts';
import { assertThat, notFound } from '../../http/errors.ts';
import { toPage } from '../../http/pagination.ts';
import type { Actor } from '../../http/actor.ts';
import { createNotificationsRepo } from './notifications.repo.ts';
import type { ListNotificationsQuery } from './notifications.types.ts';

/**
 * A signed-in user's own in-app notifications. Someone else's notification is "not
 * found", admins included: notifications are personal, not an admin resource.
 * Marking read is not audited: it changes nothing about access, only the user's inbox.
 */
export function createNotificationsService(core: Pick<Core, 'db' | 'clock'>) {
  const repo = createNotificationsRepo(core.db);
  return {
    list: async (actor: Actor, query: ListNotificationsQuery) => {
      const [rows, unreadCount] = await Promise.all([
        repo.listOwn(actor.userId, { limit: query.limit, cursor: query.cursor, unreadOnly: query.unread ?? false }),
        repo.countUnread(actor.userId),
      ]);
      return { ...toPage(rows, query.limit), unread_count: unreadCount };
    },

    markRead: async (actor: Actor, id: string) => {
      await repo.markRead(actor.userId, id, core.clock.now());
      const row = await repo.findOwn(actor.userId, id);
      assertThat(row, notFound('notification'));
      return row;
    },

    markAllRead: async (actor: Actor) => ({ marked: await repo.markAllRead(actor.userId, core.clock.now()) }),
  };
}
export type NotificationsService = ReturnType<typeof createNotificationsService>;
