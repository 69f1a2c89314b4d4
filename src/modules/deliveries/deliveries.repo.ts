import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { DeliveriesTable, DeliveryAttemptsTable, DeliveryChannel, DeliveryStatus } from '../../db/schema.ts';

export type DeliveryRow = Selectable<DeliveriesTable>;
/** A delivery with the type of the event it carries. */
export type DeliveryView = DeliveryRow & { event_type: string };
export type AttemptRow = Selectable<DeliveryAttemptsTable>;

export interface DeliveryFilter {
  action_id?: string;
  request_id?: string;
  event_id?: string;
  status?: DeliveryStatus;
  channel?: DeliveryChannel;
}

/** Statuses a delivery may be sent again from: it is no longer on its way. */
export const RETRYABLE_STATUSES: readonly DeliveryStatus[] = ['dead', 'succeeded'];

export function createDeliveriesRepo(db: Executor) {
  const withEventType = () => db.selectFrom('deliveries as d').innerJoin('outbox_events as e', 'e.id', 'd.event_id').selectAll('d').select('e.type as event_type');

  return {
    /** Newest first; the cursor is the last id of the previous page. */
    list: (opts: DeliveryFilter & { limit: number; cursor?: string }): Promise<DeliveryView[]> => {
      let q = withEventType().orderBy('d.id', 'desc').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('d.id', '<', opts.cursor);
      if (opts.action_id) q = q.where('d.action_id', '=', opts.action_id);
      if (opts.request_id) q = q.where('d.request_id', '=', opts.request_id);
      if (opts.event_id) q = q.where('d.event_id', '=', opts.event_id);
      if (opts.status) q = q.where('d.status', '=', opts.status);
      if (opts.channel) q = q.where('d.channel', '=', opts.channel);
      return q.execute();
    },

    findById: (id: string): Promise<DeliveryView | undefined> => withEventType().where('d.id', '=', id).executeTakeFirst(),

    /** The latest `perDelivery` attempts of each delivery, newest first: one query for a whole page. */
    recentAttempts: async (deliveryIds: string[], perDelivery: number): Promise<Map<string, AttemptRow[]>> => {
      const byDelivery = new Map<string, AttemptRow[]>(deliveryIds.map((id) => [id, []]));
      if (deliveryIds.length === 0) return byDelivery;
      const rows = await db
        .selectFrom((eb) =>
          eb
            .selectFrom('delivery_attempts')
            .selectAll()
            .select((w) =>
              w.fn
                .agg<number>('row_number')
                .over((ob) => ob.partitionBy('delivery_id').orderBy('at', 'desc').orderBy('id', 'desc'))
                .as('rank'),
            )
            .where('delivery_id', 'in', deliveryIds)
            .as('a'),
        )
        .selectAll()
        .where('a.rank', '<=', perDelivery)
        .orderBy('a.delivery_id')
        .orderBy('a.rank')
        .execute();
      for (const { rank: _rank, ...attempt } of rows) byDelivery.get(attempt.delivery_id)?.push(attempt);
      return byDelivery;
    },

    /** Puts a finished delivery back in the queue, due now, with a fresh attempt budget. False if it was not finished. */
    requeue: async (id: string, now: number): Promise<boolean> => {
      const result = await db
        .updateTable('deliveries')
        .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, last_error: null, completed_at: null, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', RETRYABLE_STATUSES)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    requestStatus: async (requestId: string) =>
      (await db.selectFrom('access_requests').select('status').where('id', '=', requestId).executeTakeFirst())?.status,
  };
}
export type DeliveriesRepo = ReturnType<typeof createDeliveriesRepo>;
