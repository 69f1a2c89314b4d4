import { systemClock, type Clock } from '../../clock.ts';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../security/ids.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { clip, describeEvent, type Audience } from './event-text.ts';
import { createNotificationsRepo } from './notifications.repo.ts';

export interface InAppNotification {
  userId: string;
  eventId: string;
  requestId: string | null;
  kind: string;
  title: string;
  body: string;
}

export const MAX_TITLE_LENGTH = 200;
export const MAX_BODY_LENGTH = 2000;

/**
 * Writes in-app notifications, once per (event, user): a redelivered event or a user
 * listed twice adds nothing. Title and body are plain text (the portal escapes them)
 * and are clipped so a long justification can't bloat the table. Returns how many
 * rows were new.
 */
export async function createInAppNotifications(trx: Executor, rows: readonly InAppNotification[], clock: Clock = systemClock): Promise<number> {
  const now = clock.now();
  return createNotificationsRepo(trx).insertIgnoringDuplicates(
    rows.map((r) => ({
      id: newId(clock),
      user_id: r.userId,
      event_id: r.eventId,
      request_id: r.requestId,
      kind: r.kind,
      title: clip(r.title.replace(/\s+/g, ' ').trim(), MAX_TITLE_LENGTH),
      body: clip(r.body, MAX_BODY_LENGTH),
      read_at: null,
      created_at: now,
    })),
  );
}

/** Title and body of an in-app notification about an event, as plain text. */
export function renderInApp(payload: EventPayload, audience: Audience): { kind: string; title: string; body: string } {
  const said = describeEvent(payload, audience);
  const body = [said.summary, ...said.extras.map((e) => `${e.label}: ${e.value}`)].join('\n\n');
  return { kind: payload.type, title: said.headline, body };
}
