import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { clip, describeEvent, fieldFacts, formatInstant, requestFacts, eventLink, extendsFromNotice, singleLine } from './event-text.ts';

/**
 * Slack incoming-webhook messages in Block Kit. User text goes into mrkdwn with `&`,
 * `<` and `>` escaped, so a justification like `<!channel>` or `<https://evil|click>`
 * shows as typed instead of pinging a channel or faking a link. Text objects are also
 * marked verbatim, which stops Slack from turning bare names into mentions.
 */

type PlainText = { type: 'plain_text'; text: string; emoji?: boolean };
type Mrkdwn = { type: 'mrkdwn'; text: string; verbatim: true };
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text?: Mrkdwn; fields?: Mrkdwn[] }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'actions'; elements: { type: 'button'; text: PlainText; url: string; action_id: string; style?: 'primary' }[] };

export interface SlackMessage {
  /** The notification and fallback text. */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's limits for the pieces used here. */
export const SLACK_LIMITS = { text: 3000, field: 2000, fieldsPerSection: 10, header: 150, buttonText: 75, url: 3000, blocks: 50 } as const;

const MRKDWN_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Escapes for mrkdwn. Only these three are control characters there. */
export const escapeMrkdwn = (text: string) => text.replace(/[&<>]/g, (c) => MRKDWN_ESCAPES[c]!);

/**
 * Escapes and fits into max characters, cutting with "…" between whole characters:
 * never through an entity like `&amp;` nor a surrogate pair.
 */
export function escapeMrkdwnWithin(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const ch of text) {
    const piece = MRKDWN_ESCAPES[ch] ?? ch;
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}

const mrkdwn = (text: string): Mrkdwn => ({ type: 'mrkdwn', text, verbatim: true });

/** "*Label*\nvalue", escaped, the value cut so the whole fits in max. */
function labelled(label: string, value: string, max: number): Mrkdwn {
  const head = `*${escapeMrkdwnWithin(label, 100)}*\n`;
  return mrkdwn(head + escapeMrkdwnWithin(value, max - head.length));
}

function fieldSections(facts: { label: string; value: string }[]): SlackBlock[] {
  const sections: SlackBlock[] = [];
  for (let i = 0; i < facts.length; i += SLACK_LIMITS.fieldsPerSection) {
    sections.push({ type: 'section', fields: facts.slice(i, i + SLACK_LIMITS.fieldsPerSection).map((f) => labelled(f.label, f.value, SLACK_LIMITS.field)) });
  }
  return sections;
}

/**
 * The Block Kit message for an event, for a channel (so worded for onlookers, with a
 * call to decide on submission and escalation): a header, the request's facts as
 * fields, the justification, custom fields, event extras, a context line and a button
 * to the request in the portal.
 */
export function renderSlackMessage(payload: EventPayload, baseUrl: string): SlackMessage {
  const r = payload.request;
  const said = describeEvent(payload, 'approver');
  const link = eventLink(baseUrl, payload);
  const decide = said.decide;

  const blocks: SlackBlock[] = [
    // The headline is fixed wording with no user text, so plain_text needs no escaping.
    { type: 'header', text: { type: 'plain_text', text: clip(said.headline, SLACK_LIMITS.header), emoji: false } },
    { type: 'section', text: mrkdwn(escapeMrkdwnWithin(said.summary, SLACK_LIMITS.text)) },
    ...fieldSections(requestFacts(payload)),
  ];
  if (r.justification) blocks.push({ type: 'section', text: labelled('Justification', r.justification, SLACK_LIMITS.text) });
  blocks.push(...fieldSections(fieldFacts(payload)));
  for (const extra of said.extras) blocks.push({ type: 'section', text: labelled(extra.label, extra.value, SLACK_LIMITS.text) });
  blocks.push({
    type: 'context',
    elements: [mrkdwn(escapeMrkdwnWithin(`${formatInstant(payload.occurred_at)} · request ${r.id} · event ${payload.id}`, SLACK_LIMITS.text))],
  });
  // A link button: it opens the portal, where the decision is taken and checked.
  if (link.length <= SLACK_LIMITS.url) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: decide ? 'Review and decide' : extendsFromNotice(payload) ? 'Extend access' : 'Open request', emoji: false },
          url: link,
          action_id: 'open_request',
          ...(decide ? { style: 'primary' as const } : {}),
        },
      ],
    });
  }

  const who = r.requester.name.trim() || r.requester.email;
  const text = escapeMrkdwnWithin(singleLine(`${said.headline}: ${who}, ${r.template_name}`), SLACK_LIMITS.text);
  return { text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** POSTs a JSON body (content-type application/json) and returns the status and response text. */
export type JsonPost = (url: string, body: string) => Promise<{ status: number; body: string }>;

export class SlackDeliveryError extends Error {
  readonly code = 'slack_webhook_failed';
  readonly status: number;
  constructor(status: number, responseText: string) {
    // Slack answers errors as short text ("invalid_blocks", "no_service"); keep it readable and bounded.
    // eslint-disable-next-line no-control-regex -- strip control characters from a remote response before logging it
    const detail = responseText.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 500);
    super(`slack_webhook_failed: HTTP ${status}${detail ? `: ${detail}` : ''}`);
    this.status = status;
  }
}

/**
 * Sends a message to an incoming webhook. The HTTP call is passed in (the dispatcher
 * gives the SSRF-safe one); any non-2xx answer is a failure carrying Slack's text.
 */
export async function sendSlack(webhookUrl: string, message: SlackMessage, post: JsonPost): Promise<void> {
  const res = await post(webhookUrl, JSON.stringify(message));
  if (res.status < 200 || res.status > 299) throw new SlackDeliveryError(res.status, res.body);
}
