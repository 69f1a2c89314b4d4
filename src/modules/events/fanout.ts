import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/database.ts';
import { createDeliveriesRepo, type NewDelivery } from '../deliveries/deliveries.repo.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { askedStage, createSlackRepo, OUTCOME_EVENTS } from '../slack/index.ts';
import { newId } from '../../security/ids.ts';
import type { Audience, FanoutPlan, PlannedDelivery } from './fanout-plan.ts';

/** What the writer asks of the notifications module (narrow, injected by the caller). */
export interface FanoutDeps {
  clock: Clock;
  inAppNotify(trx: Tx, rows: { userId: string; eventId: string; requestId: string; kind: string; title: string; body: string }[]): Promise<void>;
  inAppText(payload: EventPayload, audience: Audience): { title: string; body: string };
}

/** Targets of the `slack` channel's deliveries that go through the Slack app (bot token), not an incoming webhook. */
export const SLACK_APP_TARGET_PREFIX = 'slack_app:';
export const SLACK_UPDATE_TARGET = 'slack_update';

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
  const slackUpdates = await slackUpdatesOf(deps, trx, events);
  await createDeliveriesRepo(trx).enqueueMany(
    deps.clock,
    events.map(({ payload, plan }) => ({
      event: payload,
      // The update of the request's Slack messages first: a stage advance ends the old message before the new stage's is posted.
      deliveries: [...(slackUpdates.has(payload.id) ? [slackUpdateRow(payload.request.id)] : []), ...plan.deliveries.flatMap((d) => deliveryRow(d, payload.request.id, addresses))],
    })),
  );
}

/**
 * The Slack app's part (src/modules/slack): a message that asks for a decision is reserved
 * now, in the event's transaction, so that an outcome recorded before it is even posted still
 * updates it; and an outcome of a request with Slack messages updates them (chat.update),
 * whatever surface decided. Returns the ids of the events that update.
 */
async function slackUpdatesOf(deps: FanoutDeps, trx: Tx, events: readonly { payload: EventPayload; plan: FanoutPlan }[]): Promise<Set<string>> {
  const slack = createSlackRepo(trx);
  const now = deps.clock.now();
  const reserve = events.flatMap(({ payload, plan }) => {
    const stage = askedStage(payload);
    if (stage === null) return [];
    return plan.deliveries.flatMap((d) => (d.channel === 'slack_app' ? [{ id: newId(deps.clock), request_id: payload.request.id, action_id: d.actionId, stage, created_at: now }] : []));
  });
  await slack.reserveMessages(reserve);
  const outcomes = events.filter(({ payload }) => OUTCOME_EVENTS.has(payload.type));
  if (outcomes.length === 0) return new Set();
  const withMessages = await slack.requestsWithMessages([...new Set(outcomes.map(({ payload }) => payload.request.id))]);
  return new Set(outcomes.filter(({ payload }) => withMessages.has(payload.request.id)).map(({ payload }) => payload.id));
}

/** Slack app deliveries of one request share an ordering key: a message is posted before it is updated. */
const slackAppOrderingKey = (requestId: string) => `${requestId}:slack_app`;
const slackUpdateRow = (requestId: string): NewDelivery => ({ channel: 'slack', target: SLACK_UPDATE_TARGET, orderingKey: slackAppOrderingKey(requestId), maxAttempts: NOTIFICATION_ATTEMPTS });


function deliveryRow(d: PlannedDelivery, requestId: string, addresses: Map<string, string>): NewDelivery[] {
  switch (d.channel) {
    case 'email': {
      const address = 'address' in d.to ? d.to.address : addresses.get(d.to.userId);
      if (!address) return [];
      const orderingKey = d.actionId ? `${requestId}:action:${d.actionId}:${address}` : `${requestId}:email:${address}`;
      return [{ channel: 'email', target: `${d.audience}:${address}`, actionId: d.actionId, orderingKey, maxAttempts: NOTIFICATION_ATTEMPTS }];
    }
    case 'slack_app':
      return [{ channel: 'slack', target: `${SLACK_APP_TARGET_PREFIX}${d.actionId}`, actionId: d.actionId, orderingKey: slackAppOrderingKey(requestId), maxAttempts: NOTIFICATION_ATTEMPTS }];
    case 'trigger':
      return [{ channel: 'trigger', target: `trigger:${d.scriptId}`, orderingKey: `${requestId}:trigger`, maxAttempts: d.maxAttempts }];
    default:
      return [{ channel: d.channel, target: `action:${d.actionId}`, actionId: d.actionId, orderingKey: `${requestId}:action:${d.actionId}`, maxAttempts: NOTIFICATION_ATTEMPTS }];
  }
}
