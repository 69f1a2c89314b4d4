import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { RequestStatus } from '../../db/schema.ts';
import { lockRow } from '../../db/locks.ts';
import { assertThat, conflict, forbidden, notFound } from '../../http/errors.ts';
import { toPage, type Page } from '../../http/pagination.ts';
import type { Actor } from '../../http/actor.ts';
import { findLiveActionById } from '../event-actions/event-actions.repo.ts';
import { createDeliveriesRepo, RETRYABLE_STATUSES, type AttemptRow, type DeliveriesRepo, type DeliveryView, type EventTypesQuery } from './deliveries.repo.ts';
import { RECENT_ATTEMPTS, type ListDeliveriesQuery } from './deliveries.types.ts';

export interface DeliveryWithAttempts {
  id: string;
  delivery: DeliveryView;
  attempts: AttemptRow[];
}

/** Once access has been taken away, sending its approval again would provision it again. */
const ACCESS_ENDED = new Set(['expired', 'revoked', 'cancelled']);

async function withAttempts(repo: DeliveriesRepo, deliveries: DeliveryView[]): Promise<DeliveryWithAttempts[]> {
  const attempts = await repo.recentAttempts(
    deliveries.map((d) => d.id),
    RECENT_ATTEMPTS,
  );
  return deliveries.map((d) => ({ id: d.id, delivery: d, attempts: attempts.get(d.id) ?? [] }));
}

/**
 * What the deliveries service reads from the modules above it, wired in the composition root:
 * the events module's event types (a subquery the delivery pages join) and, before an approval
 * is sent again, the requests module's status of its request.
 */
export interface DeliveriesHooks {
  eventTypesQuery: EventTypesQuery;
  requestStatus(trx: Tx, requestId: string): Promise<RequestStatus | undefined>;
}

/** What the outbox sent where, with each attempt (admin), and resending one. */
export function createDeliveriesService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, hooks: DeliveriesHooks) {
  const { db, dialect, clock, audit } = core;
  const deliveries = createDeliveriesRepo(db);

  const list = async (query: ListDeliveriesQuery): Promise<Page<DeliveryWithAttempts>> => {
    const page = toPage(await deliveries.list(hooks.eventTypesQuery, query), query.limit);
    return { items: await withAttempts(deliveries, page.items), next_cursor: page.next_cursor };
  };

  const get = async (id: string): Promise<DeliveryWithAttempts> => {
    const delivery = await deliveries.findById(hooks.eventTypesQuery, id);
    assertThat(delivery, notFound('delivery'));
    return (await withAttempts(deliveries, [delivery]))[0]!;
  };

  return {
    list: async (actor: Actor, query: ListDeliveriesQuery) => {
      assertThat(actor.isAdmin, forbidden());
      return list(query);
    },

    /** The history of one live event action; /deliveries?action_id= also covers deleted ones. */
    listForAction: async (actor: Actor, actionId: string, query: Omit<ListDeliveriesQuery, 'action_id'>) => {
      assertThat(actor.isAdmin, forbidden());
      assertThat(await findLiveActionById(db, actionId), notFound('event action'));
      return list({ ...query, action_id: actionId });
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      return get(id);
    },

    /**
     * Sends a dead or succeeded delivery again: due now, with its full attempt budget and
     * the same event id, so a receiver that already has it can drop the copy. One that is
     * still pending or running is already on its way (409).
     */
    retry: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'deliveries', 'id', id);
        const repo = createDeliveriesRepo(trx);
        const delivery = await repo.findById(hooks.eventTypesQuery, id);
        assertThat(delivery, notFound('delivery'));
        assertThat(
          RETRYABLE_STATUSES.includes(delivery.status),
          conflict('delivery_in_progress', `the delivery is ${delivery.status} and will be attempted without a retry`),
        );
        if ((delivery.event_type === 'access_request.approved' || delivery.event_type === 'access_request.activated') && delivery.request_id !== null) {
          const status = await hooks.requestStatus(trx, delivery.request_id);
          assertThat(
            !status || !ACCESS_ENDED.has(status),
            conflict('access_already_ended', `the request is ${status}: sending its approval again would provision access that has ended`),
          );
        }
        const now = clock.now();
        assertThat(await repo.requeue(id, now), conflict('delivery_in_progress', 'the delivery changed while retrying; read it again'));
        await audit.append(trx, {
          actor,
          action: 'delivery.retried',
          targetType: 'delivery',
          targetId: id,
          requestId: delivery.request_id,
          data: { event_id: delivery.event_id, event_type: delivery.event_type, channel: delivery.channel, action_id: delivery.action_id, previous_status: delivery.status },
        });
      });
      return get(id);
    },
  };
}
export type DeliveriesService = ReturnType<typeof createDeliveriesService>;
