import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { instant, toIso, toIsoOrNull } from '../../http/schemas.ts';
import type { NotificationRow } from './notifications.repo.ts';

export const listNotificationsQuery = pageQuery.extend({
  unread: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only notifications not yet read'),
});
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuery>;

export const notificationOut = z.object({
  id: z.uuid(),
  kind: z.string().describe('the event type, e.g. access_request.submitted'),
  title: z.string(),
  body: z.string(),
  request_id: z.string().nullable(),
  event_id: z.string(),
  read: z.boolean(),
  read_at: instant.nullable(),
  created_at: instant,
});

export const notificationPageOut = z.object({
  items: z.array(notificationOut),
  next_cursor: z.string().nullable(),
  unread_count: z.number().int().describe('all your unread notifications, not only this page'),
});

export const readAllOut = z.object({ marked: z.number().int().describe('how many were unread until now') });

export function toNotificationOut(row: NotificationRow): z.infer<typeof notificationOut> {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    request_id: row.request_id,
    event_id: row.event_id,
    read: row.read_at !== null,
    read_at: toIsoOrNull(row.read_at),
    created_at: toIso(row.created_at),
  };
}
