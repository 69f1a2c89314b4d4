import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { DeliveryChannel } from '../../db/schema.ts';
import { newId } from '../../security/ids.ts';
import type { RequestRow } from '../requests/requests.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import type { ActionTarget } from '../event-actions/event-actions.types.ts';
import type { EventPayload, RequestEventName } from './event-payload.ts';

export type Audience = 'approver' | 'requester' | 'watcher';

/** The rule an event action carries, as the fan-out needs it. */
export type MatchingAction = { id: string } & ActionTarget;

/** What the fan-out asks of the notifications and event-actions modules (narrow, injected). */
export interface FanoutDeps {
  approverRecipients(trx: Tx, template: Template, request: RequestRow, stage: 'submitted' | 'escalated'): Promise<string[]>;
  inAppNotify(trx: Tx, rows: { userId: string; eventId: string; requestId: string; kind: string; title: string; body: string }[]): Promise<void>;
  inAppText(payload: EventPayload, audience: Audience): { title: string; body: string };
  matchingActions(trx: Tx, type: RequestEventName, templateId: string): Promise<MatchingAction[]>;
}

/** Attempts a notification or event-action delivery is queued with; from its first attempt the dispatcher applies INTERIM_DELIVERY_MAX_ATTEMPTS (default the same). */
export const NOTIFICATION_ATTEMPTS = 12;
/** Events that never run trigger tasks (DESIGN: events). */
const NO_TRIGGER: ReadonlySet<RequestEventName> = new Set(['access_request.comment_added', 'access_request.expiring_soon']);
const TO_REQUESTER: ReadonlySet<RequestEventName> = new Set([
  'access_request.approved',
  'access_request.denied',
  'access_request.revoked',
  'access_request.expired',
  'access_request.expiring_soon',
  'access_request.provisioning_reverted',
]);

/** How many tries a trigger task gets for one event, by failure mode (block runs before approval, see provisioning). */
export function triggerAttempts(template: Pick<Template, 'trigger'>): number {
  const trigger = template.trigger;
  if (!trigger) return 0;
  return trigger.failure_mode === 'ignore' ? 1 : 1 + trigger.max_retries;
}

/**
 * Decides, inside the event's transaction and after its outbox row is written,
 * everything that should happen because of it:
 * in-app notifications (written now), and deliveries the dispatcher sends after commit —
 * emails, event actions and the template's trigger task. Deliveries for one request and
 * one target share an ordering key, so they go out in order.
 */
export async function fanOut(core: Core, deps: FanoutDeps, trx: Tx, payload: EventPayload, request: RequestRow, template: Template): Promise<void> {
  const type = payload.type;
  const users = await approverAndRequesterNotices(deps, trx, payload, request, template);
  if (users.length) {
    await deps.inAppNotify(
      trx,
      users.map(({ userId, audience }) => ({ userId, eventId: payload.id, requestId: request.id, kind: type, ...deps.inAppText(payload, audience) })),
    );
    const emails = await emailsOf(trx, users.filter((u) => u.email).map((u) => u.userId));
    for (const { userId, audience } of users.filter((u) => u.email)) {
      const address = emails.get(userId);
      if (address) await enqueue(core, trx, payload, { channel: 'email', target: `${audience}:${address}`, orderingKey: `${request.id}:email:${address}`, maxAttempts: NOTIFICATION_ATTEMPTS });
    }
  }

  for (const action of await deps.matchingActions(trx, type, request.template_id)) {
    if (action.kind !== 'email') {
      await enqueue(core, trx, payload, { channel: action.kind, target: `action:${action.id}`, actionId: action.id, orderingKey: `${request.id}:action:${action.id}`, maxAttempts: NOTIFICATION_ATTEMPTS });
      continue;
    }
    for (const address of await actionRecipients(trx, action, request)) {
      await enqueue(core, trx, payload, { channel: 'email', target: `watcher:${address}`, actionId: action.id, orderingKey: `${request.id}:action:${action.id}:${address}`, maxAttempts: NOTIFICATION_ATTEMPTS });
    }
  }

  // A blocking trigger has already run for `approved`, before the approval committed.
  const blockedAlready = type === 'access_request.approved' && template.trigger?.failure_mode === 'block';
  if (template.trigger && !NO_TRIGGER.has(type) && !blockedAlready) {
    await enqueue(core, trx, payload, {
      channel: 'trigger',
      target: `trigger:${template.trigger.script_id}`,
      orderingKey: `${request.id}:trigger`,
      maxAttempts: triggerAttempts(template),
    });
  }
}

/** Who hears about the event in the app (and, where `email`, by mail), per DESIGN "Notifications". */
async function approverAndRequesterNotices(deps: FanoutDeps, trx: Tx, payload: EventPayload, request: RequestRow, template: Template) {
  const notified = JSON.parse(request.notified_approver_ids) as string[];
  const actorId = payload.actor.id;
  const out: { userId: string; audience: Audience; email: boolean }[] = [];
  switch (payload.type) {
    case 'access_request.submitted':
    case 'access_request.escalated': {
      const stage = payload.type === 'access_request.submitted' ? 'submitted' : 'escalated';
      const recipients = await deps.approverRecipients(trx, template, request, stage);
      const all = [...new Set([...notified, ...recipients])];
      await trx.updateTable('access_requests').set({ notified_approver_ids: JSON.stringify(all) }).where('id', '=', request.id).execute();
      request.notified_approver_ids = JSON.stringify(all);
      for (const userId of recipients) out.push({ userId, audience: 'approver', email: true });
      break;
    }
    case 'access_request.cancelled':
      for (const userId of notified) out.push({ userId, audience: 'approver', email: false });
      break;
    case 'access_request.comment_added': {
      const parties = new Set([request.requester_id, ...notified, ...(request.decided_by ? [request.decided_by] : [])]);
      for (const userId of parties) {
        if (userId !== actorId) out.push({ userId, audience: userId === request.requester_id ? 'requester' : 'approver', email: userId === request.requester_id });
      }
      break;
    }
    default:
      if (TO_REQUESTER.has(payload.type) && actorId !== request.requester_id) out.push({ userId: request.requester_id, audience: 'requester', email: true });
  }
  return out;
}

async function emailsOf(trx: Tx, userIds: string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await trx.selectFrom('users').select(['id', 'email']).where('id', 'in', userIds).where('disabled', '=', 0).where('deleted_at', 'is', null).execute();
  return new Map(rows.map((r) => [r.id, r.email]));
}

async function actionRecipients(trx: Tx, action: MatchingAction & { kind: 'email' }, request: RequestRow): Promise<string[]> {
  const mode = action.config.recipients;
  if (mode === 'addresses') return action.config.addresses ?? [];
  const ids = mode === 'requester' ? [request.requester_id] : (JSON.parse(request.notified_approver_ids) as string[]);
  return [...(await emailsOf(trx, ids)).values()];
}

async function enqueue(
  core: Core,
  trx: Tx,
  payload: EventPayload,
  d: { channel: DeliveryChannel; target: string; actionId?: string; orderingKey: string; maxAttempts: number },
): Promise<void> {
  const now = core.clock.now();
  await trx
    .insertInto('deliveries')
    .values({
      id: newId(core.clock),
      event_id: payload.id,
      request_id: payload.request.id,
      channel: d.channel,
      target: d.target,
      action_id: d.actionId ?? null,
      ordering_key: d.orderingKey,
      status: 'pending',
      attempts: 0,
      max_attempts: d.maxAttempts,
      next_attempt_at: now,
      lease_until: null,
      last_error: null,
      created_at: now,
      updated_at: now,
      completed_at: null,
    })
    .execute();
}
