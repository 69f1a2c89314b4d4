import { describe, expect, it } from 'vitest';
import { REQUEST_EVENT_TYPES, type EventPayload, type RequestEventName } from '../src/modules/event-payload/event-payload.types.ts';
import { planFanout, type FanoutInput, type MatchingAction } from '../src/modules/events/fanout-plan.ts';
import type { Template } from '../src/modules/templates/templates.types.ts';
import { payloadFor } from './notifications-payloads.ts';

// The fan-out plan is a pure rule (DESIGN "Notifications"): who hears about each event, which
// event actions fire and when the trigger task runs. Every event type is checked against a table.

const REQUESTER = 'u-req';
const APPROVER = 'u-app';
const OTHER_APPROVER = 'u-other';
const NEW_APPROVER = 'u-new';
const ADMIN = 'u-adm';
/** Break-glass alerts go to every admin and approver-group member the caller found (the requester among them is left out). */
/** Events that ask approvers for a decision: a submission, an escalation, a stage that opens, an extension request. */
const ASKS_APPROVERS: readonly RequestEventName[] = ['access_request.submitted', 'access_request.escalated', 'access_request.stage_approved', 'access_request.extension_requested'];
const ALERTS = new Set<RequestEventName>(['access_request.break_glass_activated', 'access_request.break_glass_review_overdue']);

const actorOf = (id: string | null): EventPayload['actor'] =>
  id ? { type: 'user', id, email: `${id}@example.test`, name: id } : { type: 'system', id: null, email: null, name: null };

function input(type: RequestEventName, over: Partial<FanoutInput> & { actor?: string | null } = {}): FanoutInput {
  const { actor = APPROVER, ...rest } = over;
  return {
    payload: payloadFor(type, { actor: actorOf(actor) }),
    request: { id: 'req-1', requester_id: REQUESTER, decided_by: APPROVER, notifiedApproverIds: [APPROVER, OTHER_APPROVER] },
    template: { trigger: null },
    approverRecipients: ASKS_APPROVERS.includes(type) ? [NEW_APPROVER] : undefined,
    actions: [],
    alertRecipients: ALERTS.has(type) ? [ADMIN, APPROVER, REQUESTER] : undefined,
    ...rest,
  };
}

/** [event, actor, expected in-app notices as `user:audience`, expected e-mails to users as `user:audience`] */
const NOTICES: [RequestEventName, string | null, string[], string[]][] = [
  ['access_request.submitted', REQUESTER, [`${NEW_APPROVER}:approver`], [`${NEW_APPROVER}:approver`]],
  ['access_request.escalated', null, [`${NEW_APPROVER}:approver`], [`${NEW_APPROVER}:approver`]],
  // The next approval stage opened: its approvers are asked.
  ['access_request.stage_approved', APPROVER, [`${NEW_APPROVER}:approver`], [`${NEW_APPROVER}:approver`]],
  ['access_request.approved', APPROVER, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.denied', APPROVER, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.revoked', APPROVER, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.revoked', REQUESTER, [], []],
  ['access_request.expired', null, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.expiring_soon', null, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.provisioning_reverted', null, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.activated', APPROVER, [], []],
  ['access_request.cancelled', REQUESTER, [`${APPROVER}:approver`, `${OTHER_APPROVER}:approver`], []],
  ['access_request.comment_added', REQUESTER, [`${APPROVER}:approver`, `${OTHER_APPROVER}:approver`], []],
  ['access_request.comment_added', APPROVER, [`${REQUESTER}:requester`, `${OTHER_APPROVER}:approver`], [`${REQUESTER}:requester`]],
  ['access_request.lapsed', null, [`${REQUESTER}:requester`, `${APPROVER}:approver`, `${OTHER_APPROVER}:approver`], [`${REQUESTER}:requester`]],
  ['access_request.break_glass_activated', REQUESTER, [`${ADMIN}:approver`, `${APPROVER}:approver`], [`${ADMIN}:approver`, `${APPROVER}:approver`]],
  ['access_request.break_glass_review_overdue', null, [`${ADMIN}:approver`, `${APPROVER}:approver`], [`${ADMIN}:approver`, `${APPROVER}:approver`]],
  ['access_request.break_glass_reviewed', APPROVER, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.extension_requested', REQUESTER, [`${NEW_APPROVER}:approver`], [`${NEW_APPROVER}:approver`]],
  ['access_request.extended', APPROVER, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.extended', null, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
  ['access_request.extension_denied', APPROVER, [`${REQUESTER}:requester`], [`${REQUESTER}:requester`]],
];

describe('planFanout: who hears about an event', () => {
  it('the table covers every event type', () => {
    expect(new Set(NOTICES.map(([type]) => type))).toEqual(new Set(REQUEST_EVENT_TYPES));
  });

  it('a scheduled window opening tells the requester in the app, without e-mail', () => {
    const base = input('access_request.activated', { actor: null });
    const plan = planFanout({ ...base, payload: { ...base.payload, data: { scheduled: true } } });
    expect(plan.inApp).toEqual([{ userId: REQUESTER, audience: 'requester' }]);
    expect(plan.deliveries.filter((d) => d.channel === 'email')).toEqual([]);
  });

  it.each(NOTICES)('%s by %s', (type, actor, inApp, emails) => {
    const plan = planFanout(input(type, { actor }));
    expect(plan.inApp.map((n) => `${n.userId}:${n.audience}`).sort()).toEqual([...inApp].sort());
    const toUsers = plan.deliveries.flatMap((d) => (d.channel === 'email' && 'userId' in d.to ? [`${d.to.userId}:${d.audience}`] : []));
    expect(toUsers.sort()).toEqual([...emails].sort());
  });

  it('submitted, stage_approved, extension_requested and escalated add the approvers told to the request, once each; no other event changes the request', () => {
    for (const type of REQUEST_EVENT_TYPES) {
      const plan = planFanout(input(type, { approverRecipients: [NEW_APPROVER, APPROVER] }));
      if (ASKS_APPROVERS.includes(type)) {
        expect(plan.notifiedApproverIds).toEqual([APPROVER, OTHER_APPROVER, NEW_APPROVER]);
      } else {
        expect(plan.notifiedApproverIds, type).toBeUndefined();
      }
    }
  });
});

describe('planFanout: event actions', () => {
  const webhook: MatchingAction = { id: 'act-webhook', kind: 'webhook', config: { url: 'https://hooks.example.test/in' } };
  const slack: MatchingAction = { id: 'act-slack', kind: 'slack', config: { channel: null } } as unknown as MatchingAction;
  const email = (recipients: 'requester' | 'approvers' | 'addresses', addresses?: string[]): MatchingAction =>
    ({ id: `act-email-${recipients}`, kind: 'email', config: { recipients, addresses } }) as unknown as MatchingAction;

  it('a webhook, Slack or script action is one delivery each, in the order given', () => {
    const plan = planFanout(input('access_request.denied', { actions: [webhook, slack] }));
    expect(plan.deliveries.filter((d) => d.channel !== 'email')).toEqual([
      { channel: 'webhook', actionId: 'act-webhook' },
      { channel: 'slack', actionId: 'act-slack' },
    ]);
  });

  it('an e-mail action writes to its recipients as watchers: the requester, the approvers told so far (with the new ones), or fixed addresses', () => {
    const watchers = (action: MatchingAction, type: RequestEventName = 'access_request.submitted') =>
      planFanout(input(type, { actions: [action] })).deliveries.filter((d) => d.channel === 'email' && d.actionId === action.id);
    expect(watchers(email('requester'))).toEqual([{ channel: 'email', audience: 'watcher', to: { userId: REQUESTER }, actionId: 'act-email-requester' }]);
    expect(watchers(email('approvers')).map((d) => d.channel === 'email' && d.to)).toEqual([{ userId: APPROVER }, { userId: OTHER_APPROVER }, { userId: NEW_APPROVER }]);
    expect(watchers(email('addresses', ['a@example.test', 'b@example.test'])).map((d) => d.channel === 'email' && d.to)).toEqual([
      { address: 'a@example.test' },
      { address: 'b@example.test' },
    ]);
    expect(watchers(email('addresses'))).toEqual([]);
  });

  it('a break-glass alert also goes to every loud (webhook or Slack) action in scope, once each, whatever its event types; other events do not', () => {
    const otherHook: MatchingAction = { id: 'act-webhook-2', kind: 'webhook', config: { url: 'https://hooks.example.test/other' } };
    const script = { id: 'act-script', kind: 'script', config: { script_id: 'scr-1' } } as MatchingAction;
    const loudActions = [webhook, slack, otherHook, script];
    for (const type of ALERTS) {
      const plan = planFanout(input(type, { actions: [webhook], loudActions }));
      expect(plan.deliveries.filter((d) => d.channel !== 'email')).toEqual([
        { channel: 'webhook', actionId: 'act-webhook' },
        { channel: 'slack', actionId: 'act-slack' },
        { channel: 'webhook', actionId: 'act-webhook-2' },
      ]);
    }
    for (const type of ['access_request.approved', 'access_request.break_glass_reviewed', 'access_request.lapsed'] as const) {
      expect(planFanout(input(type, { actions: [], loudActions })).deliveries.filter((d) => d.channel !== 'email'), type).toEqual([]);
    }
  });
});

describe('planFanout: the trigger task', () => {
  const trigger = (failure_mode: 'ignore' | 'retry' | 'block', max_retries = 3): Pick<Template, 'trigger'> => ({ trigger: { script_id: 'scr-1', failure_mode, max_retries } });
  const triggerOf = (type: RequestEventName, template: Pick<Template, 'trigger'>) => planFanout(input(type, { template })).deliveries.filter((d) => d.channel === 'trigger');

  it.each(REQUEST_EVENT_TYPES)('%s', (type) => {
    const never = type === 'access_request.comment_added' || type === 'access_request.expiring_soon' || type === 'access_request.break_glass_review_overdue';
    expect(triggerOf(type, { trigger: null })).toEqual([]);
    expect(triggerOf(type, trigger('ignore'))).toEqual(never ? [] : [{ channel: 'trigger', scriptId: 'scr-1', maxAttempts: 1 }]);
    expect(triggerOf(type, trigger('retry', 3))).toEqual(never ? [] : [{ channel: 'trigger', scriptId: 'scr-1', maxAttempts: 4 }]);
    // A blocking trigger ran before the approval committed: not again for `approved`.
    const blockRuns = !never && type !== 'access_request.approved';
    expect(triggerOf(type, trigger('block', 2))).toEqual(blockRuns ? [{ channel: 'trigger', scriptId: 'scr-1', maxAttempts: 3 }] : []);
  });

  it('the trigger comes after every notice and action, so the plan keeps its order', () => {
    const action: MatchingAction = { id: 'act-webhook', kind: 'webhook', config: { url: 'https://hooks.example.test/in' } };
    const plan = planFanout(input('access_request.approved', { template: trigger('retry'), actions: [action] }));
    expect(plan.deliveries.map((d) => d.channel)).toEqual(['email', 'webhook', 'trigger']);
  });
});
