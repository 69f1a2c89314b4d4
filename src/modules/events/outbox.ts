import type { Executor } from '../../db/database.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import type { SignalPayload } from '../event-payload/signal-payload.types.ts';

/** Rows per multi-row insert: well below either dialect's bound-parameter limit. */
const INSERT_ROWS = 1000;

/** Stores events' payloads in the outbox, in the transaction of the change they record: multi-row inserts, in the order given. */
export async function insertOutboxEvents(db: Executor, payloads: readonly EventPayload[]): Promise<void> {
  await insertRows(db, payloads.map((p) => ({ payload: p, requestId: p.request.id, templateId: p.request.template_id })));
}

/** Stores signals (about a user, not a request) in the outbox, in the transaction of the change they record. */
export async function insertSignalEvents(db: Executor, payloads: readonly SignalPayload[]): Promise<void> {
  await insertRows(db, payloads.map((p) => ({ payload: p, requestId: null, templateId: null })));
}

async function insertRows(db: Executor, rows: readonly { payload: EventPayload | SignalPayload; requestId: string | null; templateId: string | null }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    await db
      .insertInto('outbox_events')
      .values(
        rows.slice(i, i + INSERT_ROWS).map(({ payload, requestId, templateId }) => ({
          id: payload.id,
          type: payload.type,
          request_id: requestId,
          template_id: templateId,
          payload: JSON.stringify(payload),
          occurred_at: Date.parse(payload.occurred_at),
        })),
      )
      .execute();
  }
}

/** One page of the outbox after an event id, oldest first: what the live stream reads. */
export function outboxPageAfter(db: Executor, afterId: string, limit: number) {
  return db.selectFrom('outbox_events').select(['id', 'type', 'request_id']).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

/** The events of some requests (a request's timeline): id, type, request and time, oldest first. */
export async function outboxEventsOfRequests(db: Executor, requestIds: readonly string[]): Promise<{ id: string; type: string; request_id: string; at: number }[]> {
  if (requestIds.length === 0) return [];
  const rows = await db.selectFrom('outbox_events').select(['id', 'type', 'request_id', 'occurred_at']).where('request_id', 'in', [...requestIds]).orderBy('occurred_at').orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, type: r.type, request_id: r.request_id!, at: Number(r.occurred_at) }));
}

/** Each event's id and type, as a subquery: the delivery pages join it (DeliveriesHooks, wired in compose.ts). */
export const eventTypesQuery = (db: Executor) => db.selectFrom('outbox_events').select(['id', 'type']);
