import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/database.ts';
import { createDeliveriesRepo, type NewDelivery } from '../deliveries/deliveries.repo.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import type { Audience, FanoutPlan, PlannedDelivery } from './fanout-plan.ts';

/** What the writer asks of the notifications module (narrow, injected by the caller). */
export interface FanoutDeps {
  clock: Clock;
  inAppNotify(trx: Tx, rows: { userId: string; eventId: string; requestId: string; kind: string; title: string; body: string }[]): Promise<void>;
  inAppText(payload: EventPayload, audience: Audience): { title: string; body: string };
}

/** Attempts a notification or event-action delivery is queued with; from its first attempt the dispatcher applies INTERIM_DELIVERY_MAX_ATTEMPTS (default the same). */
export const NOTIFICATION_ATTEMPTS = 12;

/**
 * Stores the events module's part of the fan-out plans of one transaction's events (one
 * event, or an expiry chunk's), after their outbox rows: the in-app notifications, and the
 * deliveries the dispatcher sends after commit, with one insert of notifications, one look-up
 * of addresses and one insert of deliveries for all of them. Deliveries for one request and
 * one target share an ordering key, so they go out in order. An e-mail to a user goes to
 * their current address, and not at all once they are disabled or deleted.
 */
export async function writeFanouts(deps: FanoutDeps, trx: Tx, events: readonly { payload: EventPayload; plan: FanoutPlan }[]): Promise<void> {
  const inApp = events.flatMap(({ payload, plan }) =>
    plan.inApp.map(({ userId, audience }) => ({ userId, eventId: payload.id, requestId: payload.request.id, kind: payload.type, ...deps.inAppText(payload, audience) })),
  );
  if (inApp.length) await deps.inAppNotify(trx, inApp);
  const userIds = events.flatMap(({ plan }) => plan.deliveries.flatMap((d) => (d.channel === 'email' && 'userId' in d.to ? [d.to.userId] : [])));
  const addresses = userIds.length ? await createUsersRepo(trx).activeEmails([...new Set(userIds)]) : new Map<string, string>();
  await createDeliveriesRepo(trx).enqueueMany(
    deps.clock,
    events.map(({ payload, plan }) => ({ event: payload, deliveries: plan.deliveries.flatMap((d) => deliveryRow(d, payload.request.id, addresses)) })),
  );
}

function deliveryRow(d: PlannedDelivery, requestId: string, addresses: Map<string, string>): NewDelivery[] {
  switch (d.channel) {
    case 'email': {
      const address = 'address' in d.to ? d.to.address : addresses.get(d.to.userId);
      if (!address) return [];
      const orderingKey = d.actionId ? `${requestId}:action:${d.actionId}:${address}` : `${requestId}:email:${address}`;
      return [{ channel: 'email', target: `${d.audience}:${address}`, actionId: d.actionId, orderingKey, maxAttempts: NOTIFICATION_ATTEMPTS }];
    }
    case 'trigger':
      return [{ channel: 'trigger', target: `trigger:${d.scriptId}`, orderingKey: `${requestId}:trigger`, maxAttempts: d.maxAttempts }];
    default:
      return [{ channel: d.channel, target: `action:${d.actionId}`, actionId: d.actionId, orderingKey: `${requestId}:action:${d.actionId}`, maxAttempts: NOTIFICATION_ATTEMPTS }];
  }
}
