import { sql, type Insertable, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { DialectName, Executor } from '../../db/database.ts';
import { claimRows } from '../../db/locks.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import { neverDeleted } from '../../db/names.ts';
import { newId } from '../../security/ids.ts';
import type { DB, DeliveriesTable, DeliveryAttemptsTable, DeliveryChannel, DeliveryStatus } from '../../db/schema.ts';

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
  /** Part of the channel, the target or the event type, any case. */
  q?: string;
}

/** Statuses a delivery may be sent again from: it is no longer on its way. */
export const RETRYABLE_STATUSES: readonly DeliveryStatus[] = ['dead', 'succeeded'];

/** How an attempt ends a running delivery: `pending` again (a retry at `next_attempt_at`), or finished. */
export interface Settlement {
  status: Extract<DeliveryStatus, 'pending' | 'succeeded' | 'dead'>;
  last_error: string | null;
  next_attempt_at: number;
  completed_at: number | null;
}

/** A delivery to queue for an event: due now, with its own attempt budget. */
export interface NewDelivery {
  channel: DeliveryChannel;
  target: string;
  actionId?: string;
  orderingKey: string;
  maxAttempts: number;
}

/**
 * Each outbox event's id and type, as a subquery: the events module (which sits above
 * deliveries) provides it through DeliveriesHooks, so a page of deliveries with their event
 * types stays one statement while only the events module names its table.
 */
export type EventTypesQuery = (db: Executor) => SelectQueryBuilder<DB, keyof DB, { id: string; type: string }>;

/** Rows per multi-row insert (16 columns each): below SQLite's bound-parameter limit. */
const INSERT_ROWS = 1000;

export function createDeliveriesRepo(db: Executor) {
  const withEventType = (eventTypes: EventTypesQuery) =>
    db.selectFrom('deliveries as d').innerJoin(eventTypes(db).as('e'), 'e.id', 'd.event_id').selectAll('d').select('e.type as event_type');

  /** The deliveries of several events, in the caller's transaction (theirs), with multi-row inserts. */
  async function enqueueMany(clock: Clock, events: readonly { event: { id: string; request: { id: string } | null }; deliveries: readonly NewDelivery[] }[]): Promise<void> {
    const now = clock.now();
    const rows: Insertable<DeliveriesTable>[] = events.flatMap(({ event, deliveries }) =>
      deliveries.map((d) => ({
        id: newId(clock),
        event_id: event.id,
        request_id: event.request?.id ?? null,
        channel: d.channel,
        target: d.target,
        action_id: d.actionId ?? null,
        ordering_key: d.orderingKey,
        status: 'pending' as const,
        attempts: 0,
        max_attempts: d.maxAttempts,
        next_attempt_at: now,
        lease_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        completed_at: null,
      })),
    );
    for (let i = 0; i < rows.length; i += INSERT_ROWS) await db.insertInto('deliveries').values(rows.slice(i, i + INSERT_ROWS)).execute();
  }

  return {
    /** Queues the deliveries of several events with multi-row inserts, in the order given. */
    enqueueMany,

    /** Newest first; the cursor is the last id of the previous page. */
    list: (eventTypes: EventTypesQuery, opts: DeliveryFilter & { limit: number; cursor?: string }): Promise<DeliveryView[]> => {
      let q = withEventType(eventTypes).orderBy('d.id', 'desc').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('d.id', '<', opts.cursor);
      if (opts.action_id) q = q.where('d.action_id', '=', opts.action_id);
      if (opts.request_id) q = q.where('d.request_id', '=', opts.request_id);
      if (opts.event_id) q = q.where('d.event_id', '=', opts.event_id);
      if (opts.status) q = q.where('d.status', '=', opts.status);
      if (opts.channel) q = q.where('d.channel', '=', opts.channel);
      const text = opts.q;
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('d.channel', text, 'contains'), matchesIgnoringCase('d.target', text, 'contains'), matchesIgnoringCase('e.type', text, 'contains')]));
      return q.execute();
    },

    findById: (eventTypes: EventTypesQuery, id: string): Promise<DeliveryView | undefined> => withEventType(eventTypes).where('d.id', '=', id).executeTakeFirst(),

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

    /**
     * The dispatcher's claim: due deliveries of these channels (pending and due, or running
     * with a lease run out), oldest first, none while an earlier one of its ordering key is
     * unfinished. On PostgreSQL the rows are locked, skipping those another worker holds.
     */
    /**
     * The oldest due deliveries of these channels, locked (SKIP LOCKED on PostgreSQL): first
     * those whose lease ran out (a crashed worker's), then pending ones due now, none while
     * an earlier one of its ordering key is unfinished. Two queries, one per status, so each
     * walks the (status, id) index and stops after `limit` rows.
     */
    claimDue: async (dialect: DialectName, now: number, channels: readonly DeliveryChannel[], limit: number): Promise<DeliveryRow[]> => {
      const oldest = (status: 'pending' | 'running', n: number) =>
        claimRows(
          db
            .selectFrom('deliveries as d')
            .selectAll('d')
            .where('d.status', '=', status)
            .where(status === 'pending' ? 'd.next_attempt_at' : 'd.lease_until', '<=', now)
            .where('d.channel', 'in', channels)
            .where((eb) =>
              eb.not(
                eb.exists(
                  eb
                    .selectFrom('deliveries as e')
                    .select('e.id')
                    .whereRef('e.ordering_key', '=', 'd.ordering_key')
                    .whereRef('e.id', '<', 'd.id')
                    .where('e.status', 'in', ['pending', 'running']),
                ),
              ),
            )
            .orderBy('d.id')
            .limit(n),
          dialect,
        ).execute();
      const abandoned = await oldest('running', limit);
      return abandoned.length < limit ? [...abandoned, ...(await oldest('pending', limit - abandoned.length))] : abandoned;
    },

    /**
     * Marks claimed deliveries running under a lease and counts the attempt. `maxAttempts`
     * null keeps each row's own (a trigger task's, from its template).
     */
    markRunning: async (ids: readonly string[], at: { now: number; leaseUntil: number; maxAttempts: number | null }): Promise<void> => {
      await db
        .updateTable('deliveries')
        .set((eb) => ({
          status: 'running',
          lease_until: at.leaseUntil,
          attempts: eb('attempts', '+', 1),
          max_attempts: at.maxAttempts === null ? eb.ref('max_attempts') : at.maxAttempts,
          updated_at: at.now,
        }))
        .where('id', 'in', ids)
        .execute();
    },

    /** Extends the leases of deliveries still running. */
    renewLeases: async (ids: readonly string[], leaseUntil: number): Promise<void> => {
      await db.updateTable('deliveries').set({ lease_until: leaseUntil }).where('id', 'in', ids).where('status', '=', 'running').execute();
    },

    recordAttempt: async (attempt: Insertable<DeliveryAttemptsTable>): Promise<void> => {
      await db.insertInto('delivery_attempts').values(attempt).execute();
    },

    /**
     * Settles a running delivery after an attempt. Only the holder of this lease may: false
     * when the row is no longer running with these attempts (an admin's retry meanwhile wins).
     */
    settle: async (delivery: Pick<DeliveryRow, 'id' | 'attempts'>, outcome: Settlement, now: number): Promise<boolean> => {
      const settled = await db
        .updateTable('deliveries')
        .set({ ...outcome, lease_until: null, updated_at: now })
        .where('id', '=', delivery.id)
        .where('status', '=', 'running')
        .where('attempts', '=', delivery.attempts)
        .executeTakeFirst();
      return Number(settled.numUpdatedRows) === 1;
    },

  };
}
export type DeliveriesRepo = ReturnType<typeof createDeliveriesRepo>;

/** Every delivery's id, named by its channel and target ("email: approver:ada@…"): the audit log's names. */
export const deliveryNamesQuery = (db: Executor) =>
  db.selectFrom('deliveries').select(['id', sql<string>`${sql.ref('channel')} || ': ' || ${sql.ref('target')}`.as('name'), neverDeleted()]);
/**
 * The e-mail and Slack deliveries of some requests' events (a request's timeline: who was told,
 * and how), queued in event order; whether they were sent yet does not change who was told.
 */
export function noticeDeliveriesOfRequests(db: Executor, requestIds: readonly string[]): Promise<{ event_id: string; channel: DeliveryChannel; target: string }[]> {
  if (requestIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('deliveries').select(['event_id', 'channel', 'target']).where('request_id', 'in', [...requestIds]).where('channel', 'in', ['email', 'slack']).orderBy('id').execute();
}
