import type { EventPayload, RequestEventName } from '../event-payload/event-payload.types.ts';
import { escapeMrkdwnWithin, formatInstant, personLabel, renderSlackMessage } from '../notifications/index.ts';
import type { Block } from './slack-client.ts';

/** The buttons' action ids: the interactivity endpoint acts on these two only. */
export const APPROVE_ACTION = 'interim_approve';
export const DENY_ACTION = 'interim_deny';
const DECISION_BLOCK = 'interim_decision';

/** A button's value: the request and the stage it decides. */
export const decisionValue = (requestId: string, stage: number) => `${requestId}:${stage}`;
export function parseDecisionValue(value: string): { requestId: string; stage: number } | null {
  const match = /^([0-9a-f-]{36}):(\d{1,3})$/.exec(value);
  return match ? { requestId: match[1]!, stage: Number(match[2]) } : null;
}

/** The stage an event asks approvers to decide (it gets buttons), or null for news without a decision. */
export function askedStage(payload: Pick<EventPayload, 'type' | 'data'>): number | null {
  if (payload.type === 'access_request.submitted' || payload.type === 'access_request.extension_requested') return 1;
  if (payload.type === 'access_request.stage_approved' && typeof payload.data.next_stage === 'number') return payload.data.next_stage;
  return null;
}

/** Events after which the request's Slack messages are updated for everyone (every decision and ending, from any surface). */
export const OUTCOME_EVENTS: ReadonlySet<RequestEventName> = new Set([
  'access_request.approved',
  'access_request.denied',
  'access_request.cancelled',
  'access_request.lapsed',
  'access_request.stage_approved',
  'access_request.revoked',
  'access_request.expired',
  'access_request.extended',
  'access_request.extension_denied',
]);

/** A Slack date token: shown in each reader's own time zone, with the UTC time as the fallback. */
const slackDate = (iso: string) => `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} at {time}|${formatInstant(iso)}>`;

const who = (actor: EventPayload['actor']) => (actor.type === 'system' || !actor.email ? 'Interim' : personLabel({ name: actor.name ?? '', email: actor.email }));

/** What happened, in one mrkdwn line for everyone in the channel: who decided and when. */
export function outcomeLine(event: Pick<EventPayload, 'type' | 'actor' | 'occurred_at' | 'data'>): string {
  const by = escapeMrkdwnWithin(who(event.actor), 300);
  const at = slackDate(event.occurred_at);
  switch (event.type) {
    case 'access_request.approved':
    case 'access_request.extended':
      return `:white_check_mark: *Approved* by ${by}, ${at}`;
    case 'access_request.denied':
    case 'access_request.extension_denied':
      return `:no_entry: *Denied* by ${by}, ${at}`;
    case 'access_request.stage_approved':
      return `:white_check_mark: *Stage ${String(event.data.stage)} approved* by ${by}, ${at}; stage ${String(event.data.next_stage)} decides next`;
    case 'access_request.cancelled':
      return `*Cancelled* by ${by}, ${at}`;
    case 'access_request.lapsed':
      return `*Lapsed*: nobody decided in time, ${at}`;
    case 'access_request.revoked':
      return `*Revoked* by ${by}, ${at}`;
    case 'access_request.expired':
      return `*Expired*, ${at}`;
    default:
      return `*${escapeMrkdwnWithin(event.type.replace(/^access_request\./, ''), 100)}*, ${at}`;
  }
}

const outcomeBlock = (line: string): Block => ({ type: 'section', block_id: 'interim_outcome', text: { type: 'mrkdwn', text: line, verbatim: true } });

/**
 * The message asking a channel to decide: the notification's Block Kit message (requester,
 * template, justification, duration, a portal link) with Approve and Deny buttons added.
 */
export function renderDecisionMessage(payload: EventPayload, baseUrl: string, stage: number): { text: string; blocks: Block[] } {
  const message = renderSlackMessage(payload, baseUrl);
  const value = decisionValue(payload.request.id, stage);
  const buttons: Block[] = [
    { type: 'button', action_id: APPROVE_ACTION, text: { type: 'plain_text', text: 'Approve', emoji: false }, style: 'primary', value },
    { type: 'button', action_id: DENY_ACTION, text: { type: 'plain_text', text: 'Deny', emoji: false }, style: 'danger', value },
  ];
  const blocks = message.blocks.map((b) => b as unknown as Block).filter((b) => b.type !== 'actions');
  const links = message.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.type === 'actions' ? b.elements : []));
  blocks.push({ type: 'actions', block_id: DECISION_BLOCK, elements: [...buttons, ...links] });
  return { text: message.text, blocks: blocks.slice(0, 50) };
}

/** A message about an event that asks nothing (an action listing other event types, a break-glass alert): the notification as it is. */
export function renderNoticeMessage(payload: EventPayload, baseUrl: string): { text: string; blocks: Block[] } {
  const message = renderSlackMessage(payload, baseUrl);
  return { text: message.text, blocks: message.blocks.map((b) => b as unknown as Block) };
}

/** The message after an outcome, from that event: its description and the outcome line; no buttons any more. */
export function renderOutcomeMessage(payload: EventPayload, baseUrl: string): { text: string; blocks: Block[] } {
  const message = renderSlackMessage(payload, baseUrl);
  return { text: message.text, blocks: [...message.blocks.map((b) => b as unknown as Block), outcomeBlock(outcomeLine(payload))].slice(0, 50) };
}

/**
 * The original message (as Slack sent it back in the verified interaction) with its decision
 * buttons removed and the outcome appended: what everyone sees after a decision in Slack.
 */
export function withOutcome(original: readonly Block[], line: string): Block[] {
  const kept = original.filter((b) => b.block_id !== DECISION_BLOCK && b.block_id !== 'interim_outcome');
  return [...kept, outcomeBlock(line)].slice(0, 50);
}
