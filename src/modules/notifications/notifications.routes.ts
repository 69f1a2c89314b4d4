import { requireActor } from '../../http/auth.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { NotificationsService } from './notifications.service.ts';
import { listNotificationsQuery, notificationOut, notificationPageOut, readAllOut, toNotificationOut } from './notifications.types.ts';

/** The signed-in user's in-app notifications. */
export function notificationsRoutes(app: HttpApp, deps: { notifications: NotificationsService }): void {
  const { notifications } = deps;
  const tags = ['notifications'];
  const base = '/api/v1/notifications';

  app.get(
    base,
    {
      schema: {
        tags,
        summary: 'Your notifications, newest first; ?unread=true for unread only. unread_count counts all unread',
        querystring: listNotificationsQuery,
        response: { 200: notificationPageOut },
      },
    },
    async (request) => {
      const page = await notifications.list(requireActor(request), request.query);
      return { items: page.items.map(toNotificationOut), next_cursor: page.next_cursor, unread_count: page.unread_count };
    },
  );

  app.post(
    `${base}/read-all`,
    { schema: { tags, summary: 'Mark all your notifications read', response: { 200: readAllOut } } },
    async (request) => notifications.markAllRead(requireActor(request)),
  );

  app.post(
    `${base}/:id/read`,
    { schema: { tags, summary: 'Mark one of your notifications read (idempotent; keeps the first read time)', params: idParam, response: { 200: notificationOut } } },
    async (request) => toNotificationOut(await notifications.markRead(requireActor(request), request.params.id)),
  );
}
