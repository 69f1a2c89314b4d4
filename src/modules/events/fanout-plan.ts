import { LOUD_ACTION_KINDS, type ActionTarget } from '../event-actions/event-actions.types.ts';
import type { EventPayload, RequestEventName } from '../event-payload/event-payload.types.ts';
import type { Template } from '../templates/templates.types.ts';

export type Audience = 'approver' | 'requester' | 'watcher';

/** The rule an event action carries, as the fan-out needs it. */
export type MatchingAction = { id: string } & ActionTarget;

/** What the plan reads of the request the event is about. */
export interface FanoutRequest {
  id: string;
  requester_id: string;
  decided_by: string | null;
  /** The approvers told about this request so far (the request's `notified_approver_ids`). */
  notifiedApproverIds: readonly string[];
}

export interface FanoutInput {
  payload: EventPayload;
  request: FanoutRequest;
  template: Pick<Template, 'trigger'>;
  /** For `submitted` and `escalated`: the approvers to tell now (notifications' choice by policy). */
  approverRecipients?: readonly string[];
  /** The enabled event actions whose rule matches this event and template. */
  actions: readonly MatchingAction[];
  /**
   * For a break-glass alert (`break_glass_activated`, `break_glass_review_overdue`): every
   * active admin and live member of the template's approver groups. They are all told, in
   * the app and by e-mail, whatever the notification policy says.
   */
  alertRecipients?: readonly string[];
  /**
   * For a break-glass alert: every enabled webhook and Slack action in the template's scope,
   * whatever event types it lists, so every channel an admin set up hears about it.
   */
  loudActions?: readonly MatchingAction[];
}

/** Who gets an e-mail: a user (at their current address, if still active) or a literal address. */
export type EmailRecipient = { userId: string } | { address: string };

/** One delivery the dispatcher sends after commit, in the order the plan lists them. */
export type PlannedDelivery =
  | { channel: 'email'; audience: Audience; to: EmailRecipient; actionId?: string }
  | { channel: Exclude<ActionTarget['kind'], 'email'>; actionId: string }
  | { channel: 'trigger'; scriptId: string; maxAttempts: number };

/**
 * Everything an event causes. The requests module applies its own part
 * (`notifiedApproverIds`); the events module's writer stores the rest.
 */
export interface FanoutPlan {
  /** The request's new list of notified approvers, when the event tells new ones; else undefined. */
  notifiedApproverIds?: string[];
  /** In-app notifications, written in the event's transaction. */
  inApp: { userId: string; audience: Audience }[];
  deliveries: PlannedDelivery[];
}

/** Events that never run trigger tasks (DESIGN: events). */
const NO_TRIGGER: ReadonlySet<RequestEventName> = new Set(['access_request.comment_added', 'access_request.expiring_soon', 'access_request.break_glass_review_overdue']);
const TO_REQUESTER: ReadonlySet<RequestEventName> = new Set([
  'access_request.approved',
  'access_request.denied',
  'access_request.revoked',
  'access_request.expired',
  'access_request.expiring_soon',
  'access_request.provisioning_reverted',
  'access_request.lapsed',
  'access_request.break_glass_reviewed',
  'access_request.extended',
  'access_request.extension_denied',
]);

/** Break-glass alerts: loud, to every admin and approver, on every channel. */
const BREAK_GLASS_ALERTS: ReadonlySet<RequestEventName> = new Set(['access_request.break_glass_activated', 'access_request.break_glass_review_overdue']);

/** How many tries a trigger task gets for one event, by failure mode (block runs before approval, see provisioning). */
export function triggerAttempts(template: Pick<Template, 'trigger'>): number {
  const trigger = template.trigger;
  if (!trigger) return 0;
  return trigger.failure_mode === 'ignore' ? 1 : 1 + trigger.max_retries;
}

/**
 * Decides everything that should happen because of an event: who hears about it in the app
 * and by e-mail (DESIGN "Notifications"), which event actions fire and whether the
 * template's trigger task runs. Pure: the callers read what it needs and write what it says.
 */
export function planFanout(input: FanoutInput): FanoutPlan {
  const { payload, request, template } = input;
  const plan: FanoutPlan = { inApp: [], deliveries: [] };
  let notified = request.notifiedApproverIds;
  const notices: { userId: string; audience: Audience; email: boolean }[] = [];

  switch (payload.type) {
    case 'access_request.submitted':
    case 'access_request.stage_approved':
    case 'access_request.extension_requested':
    case 'access_request.escalated': {
      const recipients = input.approverRecipients ?? [];
      notified = [...new Set([...notified, ...recipients])];
      plan.notifiedApproverIds = [...notified];
      for (const userId of recipients) notices.push({ userId, audience: 'approver', email: true });
      break;
    }
    case 'access_request.cancelled':
      for (const userId of notified) notices.push({ userId, audience: 'approver', email: false });
      break;
    case 'access_request.lapsed':
      // The approvers asked no longer need to decide; the requester hears why (and by e-mail).
      for (const userId of notified) notices.push({ userId, audience: 'approver', email: false });
      notices.push({ userId: request.requester_id, audience: 'requester', email: true });
      break;
    case 'access_request.break_glass_activated':
    case 'access_request.break_glass_review_overdue':
      for (const userId of new Set(input.alertRecipients ?? [])) if (userId !== request.requester_id) notices.push({ userId, audience: 'approver', email: true });
      break;
    case 'access_request.comment_added': {
      const parties = new Set([request.requester_id, ...notified, ...(request.decided_by ? [request.decided_by] : [])]);
      for (const userId of parties) {
        if (userId !== payload.actor.id) notices.push({ userId, audience: userId === request.requester_id ? 'requester' : 'approver', email: userId === request.requester_id });
      }
      break;
    }
    case 'access_request.activated':
      // A scheduled window opening is news in the app; one that opens at approval is the approval itself.
      if (payload.data.scheduled === true) notices.push({ userId: request.requester_id, audience: 'requester', email: false });
      break;
    default:
      if (TO_REQUESTER.has(payload.type) && payload.actor.id !== request.requester_id) notices.push({ userId: request.requester_id, audience: 'requester', email: true });
  }

  for (const { userId, audience, email } of notices) {
    plan.inApp.push({ userId, audience });
    if (email) plan.deliveries.push({ channel: 'email', audience, to: { userId } });
  }

  const actions = BREAK_GLASS_ALERTS.has(payload.type) ? withLoudActions(input.actions, input.loudActions ?? []) : input.actions;
  for (const action of actions) {
    if (action.kind !== 'email') {
      plan.deliveries.push({ channel: action.kind, actionId: action.id });
      continue;
    }
    const { recipients, addresses } = action.config;
    const to: EmailRecipient[] =
      recipients === 'addresses' ? (addresses ?? []).map((address) => ({ address })) : (recipients === 'requester' ? [request.requester_id] : notified).map((userId) => ({ userId }));
    for (const recipient of to) plan.deliveries.push({ channel: 'email', audience: 'watcher', to: recipient, actionId: action.id });
  }

  // A blocking trigger has already run for `approved`, before the approval committed.
  const blockedAlready = payload.type === 'access_request.approved' && template.trigger?.failure_mode === 'block';
  if (template.trigger && !NO_TRIGGER.has(payload.type) && !blockedAlready) {
    plan.deliveries.push({ channel: 'trigger', scriptId: template.trigger.script_id, maxAttempts: triggerAttempts(template) });
  }
  return plan;
}

/** The matching actions, then each loud one (webhook or Slack) not among them, in id order. */
function withLoudActions(matching: readonly MatchingAction[], loud: readonly MatchingAction[]): MatchingAction[] {
  const ids = new Set(matching.map((a) => a.id));
  return [...matching, ...loud.filter((a) => LOUD_ACTION_KINDS.includes(a.kind) && !ids.has(a.id))];
}
