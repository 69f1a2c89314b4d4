import type { EventPayload, PersonRef, RequestEventName } from '../event-payload/event-payload.types.ts';
import { describeLapseGlass, lapseGlassExtras } from './lapse-glass-text.ts';

/**
 * The wording of every lifecycle event, per audience, as plain text. Email, Slack and
 * in-app messages all start from here and escape for their own medium; nothing in
 * this file is escaped, so it must never be placed into markup as is.
 */
export type Audience = 'approver' | 'requester' | 'watcher';

export interface EventText {
  /** A short, fixed phrase with no user text in it: safe for a Slack header. */
  headline: string;
  /** One or two sentences naming who, what and for how long. */
  summary: string;
  /** Labelled extras that belong to this event: the decision comment, the revoke reason, the comment. */
  extras: { label: string; value: string }[];
  /** True when the reader is asked to approve or deny. */
  decide: boolean;
}

/** "Ada Lovelace (ada@example.com)", or the email alone when the name is blank. */
export function personLabel(p: Pick<PersonRef, 'name' | 'email'>): string {
  const name = singleLine(p.name);
  return name ? `${name} (${singleLine(p.email)})` : singleLine(p.email);
}

const actorLabel = (payload: EventPayload) =>
  payload.actor.type === 'system' ? 'Interim' : singleLine(payload.actor.name ?? '') || singleLine(payload.actor.email ?? '') || 'Someone';

/** 90 → "1 hour 30 minutes", 1440 → "1 day", 10080 → "1 week". */
export function formatDuration(mins: number): string {
  const units: [number, string][] = [
    [10_080, 'week'],
    [1_440, 'day'],
    [60, 'hour'],
    [1, 'minute'],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(mins));
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    rest -= n * size;
  }
  return parts.length ? parts.slice(0, 2).join(' ') : '0 minutes';
}

/** An RFC 3339 instant as "2026-05-01 14:00 UTC"; the input unchanged if it doesn't parse. */
export function formatInstant(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** One line: CR, LF and other control characters become spaces, runs of space collapse. */
export function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this removes
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
}

const fieldValue = (v: string | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : v);

/** The request's facts as label/value pairs, in reading order; custom fields by key. */
export function requestFacts(payload: EventPayload): { label: string; value: string }[] {
  const r = payload.request;
  const facts = [
    { label: 'Requester', value: personLabel(r.requester) },
    { label: 'Application', value: singleLine(r.app.name) },
    { label: 'Template', value: singleLine(r.template_name) },
    { label: 'Duration', value: formatDuration(r.duration_mins) },
    { label: 'Status', value: r.escalated && r.status === 'pending' ? 'pending (escalated)' : r.status },
  ];
  if (r.expires_at) {
    const label = r.status === 'approved' ? 'Expires' : r.status === 'expired' ? 'Expired' : 'Was due to expire';
    facts.push({ label, value: formatInstant(r.expires_at) });
  }
  return facts;
}

export function fieldFacts(payload: EventPayload): { label: string; value: string }[] {
  return Object.entries(payload.request.fields).map(([key, value]) => ({ label: key, value: fieldValue(value) }));
}

/** What was asked for, as a phrase: "4 hours of access to Prod DB (Production access)". */
const target = (payload: EventPayload) => `${singleLine(payload.request.app.name)} (${singleLine(payload.request.template_name)})`;
const what = (payload: EventPayload) => `${formatDuration(payload.request.duration_mins)} of access to ${target(payload)}`;

const HEADLINES: Record<RequestEventName, { requester: string; other: string; approver?: string }> = {
  'access_request.submitted': { approver: 'Access request needs your decision', requester: 'Your access request was submitted', other: 'New access request' },
  'access_request.escalated': {
    approver: 'Escalated access request needs your decision',
    requester: 'Your access request was escalated',
    other: 'Access request escalated',
  },
  'access_request.approved': { requester: 'Your access request was approved', other: 'Access request approved' },
  'access_request.denied': { requester: 'Your access request was denied', other: 'Access request denied' },
  'access_request.cancelled': { requester: 'Your access request was withdrawn', other: 'Access request withdrawn' },
  'access_request.revoked': { requester: 'Your access was revoked', other: 'Access revoked' },
  'access_request.expired': { requester: 'Your access has expired', other: 'Temporary access expired' },
  'access_request.expiring_soon': { requester: 'Your access expires soon', other: 'Temporary access expiring soon' },
  'access_request.comment_added': { requester: 'New comment on your access request', other: 'New comment on an access request' },
  'access_request.provisioning_reverted': { requester: 'Your approval was undone before it took effect', other: 'Approval undone before it took effect' },
  'access_request.lapsed': { requester: 'Your access request lapsed', other: 'Access request lapsed' },
  'access_request.break_glass_activated': { requester: 'You used break-glass access', other: 'BREAK-GLASS access used', approver: 'BREAK-GLASS access used: review it' },
  'access_request.break_glass_reviewed': { requester: 'Your break-glass access was reviewed', other: 'Break-glass access reviewed' },
  'access_request.break_glass_review_overdue': { requester: 'Your break-glass access awaits review', other: 'Break-glass review overdue', approver: 'OVERDUE: break-glass access needs your review' },
  'access_request.stage_approved': { approver: 'Access request needs your decision (next stage)', requester: 'Your access request passed an approval stage', other: 'Access request passed an approval stage' },
  'access_request.extension_requested': { approver: 'Access extension needs your decision', requester: 'Your extension request was submitted', other: 'Access extension requested' },
  'access_request.extended': { requester: 'Your access was extended', other: 'Access extended' },
  'access_request.extension_denied': { requester: 'Your extension request was denied', other: 'Access extension denied' },
  'access_request.activated': { requester: 'Your access has started', other: 'Temporary access started' },
};

export function describeEvent(payload: EventPayload, audience: Audience): EventText {
  const r = payload.request;
  const mine = audience === 'requester';
  const requester = personLabel(r.requester);
  const actor = actorLabel(payload);
  const byRequester = payload.actor.id !== null && payload.actor.id === r.requester.id;
  const heads = HEADLINES[payload.type];
  const asks =
    payload.type === 'access_request.submitted' ||
    payload.type === 'access_request.escalated' ||
    payload.type === 'access_request.stage_approved' ||
    payload.type === 'access_request.extension_requested';
  const decide = audience === 'approver' && asks && r.status === 'pending';
  const headline = mine ? heads.requester : audience === 'approver' && heads.approver ? heads.approver : heads.other;
  const extras: EventText['extras'] = [];
  const expires = r.expires_at ? formatInstant(r.expires_at) : null;

  let summary: string;
  switch (payload.type) {
    case 'access_request.submitted':
      summary = mine ? `You asked for ${what(payload)}. The approvers have been told.` : `${requester} asks for ${what(payload)}.`;
      break;
    case 'access_request.escalated':
      summary = mine
        ? `Nobody decided on your request for ${what(payload)} in time, so it has gone to the escalation group as well.`
        : `Nobody decided in time on ${requester}'s request for ${what(payload)}, so it has been escalated${audience === 'approver' ? ' to you' : ''}.`;
      break;
    case 'access_request.approved': {
      const how = payload.data.break_glass === true ? 'was granted at once through break-glass' : payload.data.auto === true ? 'was approved automatically' : `was approved by ${actor}`;
      const until = expires ? (payload.data.scheduled === true && typeof payload.data.starts_at === 'string' ? ` Access starts at ${formatInstant(payload.data.starts_at)} and lasts until ${expires}.` : ` Access lasts until ${expires}.`) : '';
      summary = mine ? `Your request for ${what(payload)} ${how}.${until}` : `${requester}'s request for ${what(payload)} ${how}.${until}`;
      break;
    }
    case 'access_request.denied':
      summary = mine ? `${actor} denied your request for ${what(payload)}.` : `${actor} denied ${requester}'s request for ${what(payload)}.`;
      break;
    case 'access_request.cancelled':
      summary = mine ? `Your request for ${what(payload)} was withdrawn.` : `${requester} withdrew their request for ${what(payload)}.`;
      break;
    case 'access_request.revoked':
      summary = byRequester
        ? mine
          ? `You gave back your access to ${target(payload)}.`
          : `${requester} gave back their access to ${target(payload)}.`
        : mine
          ? `${actor} ended your access to ${target(payload)} early.`
          : `${actor} ended ${requester}'s access to ${target(payload)} early.`;
      break;
    case 'access_request.expired':
      summary = mine ? `Your temporary access to ${target(payload)} has ended.` : `${requester}'s temporary access to ${target(payload)} has ended.`;
      break;
    case 'access_request.expiring_soon':
      summary = mine
        ? `Your temporary access to ${target(payload)} ends at ${expires ?? 'its expiry'}. ${payload.data.extendable === true ? 'Extend it from the portal' : 'Ask again from the portal'} if you still need it.`
        : `${requester}'s temporary access to ${target(payload)} ends at ${expires ?? 'its expiry'}.`;
      break;
    case 'access_request.provisioning_reverted': {
      const why = typeof payload.data.reason === 'string' ? ` ${payload.data.reason}.` : '';
      const next = r.status === 'pending' ? ' It waits for another decision.' : ' It has ended.';
      summary = mine ? `The approval of your request for ${what(payload)} was undone before it took effect.${why}${next}` : `The approval of ${requester}'s request for ${what(payload)} was undone before it took effect.${why}${next}`;
      break;
    }
    case 'access_request.lapsed':
    case 'access_request.break_glass_activated':
    case 'access_request.break_glass_reviewed':
    case 'access_request.break_glass_review_overdue':
      summary = describeLapseGlass(payload, { mine, requester, actor, what: what(payload), target: target(payload), expires });
      break;
    case 'access_request.stage_approved': {
      const stage = typeof payload.data.stage === 'number' ? payload.data.stage : null;
      const passed = stage === null ? 'an approval stage' : `approval stage ${stage}`;
      summary = mine ? `Your request for ${what(payload)} passed ${passed} and waits for the next.` : `${requester}'s request for ${what(payload)} passed ${passed} and needs a decision at the next.`;
      break;
    }
    case 'access_request.extension_requested':
    case 'access_request.extended':
    case 'access_request.extension_denied':
      summary = extensionSummary(payload, { mine, requester, actor, target: target(payload) });
      break;
    case 'access_request.activated':
      summary = mine ? `Your access to ${target(payload)} has started${expires ? `; it lasts until ${expires}` : ''}.` : `${requester}'s access to ${target(payload)} has started.`;
      break;
    case 'access_request.comment_added':
      summary = mine ? `${actor} commented on your request for ${target(payload)}.` : `${actor} commented on ${requester}'s request for ${target(payload)}.`;
      break;
  }

  if (payload.type === 'access_request.comment_added' && typeof payload.data.body === 'string') extras.push({ label: 'Comment', value: payload.data.body });
  const decided = payload.type === 'access_request.denied' || payload.type === 'access_request.approved' || payload.type === 'access_request.extension_denied';
  if (decided && r.decision_comment) {
    extras.push({ label: 'Comment', value: r.decision_comment });
  }
  if (payload.type === 'access_request.revoked' && r.revoke_reason) extras.push({ label: 'Reason', value: r.revoke_reason });
  extras.push(...lapseGlassExtras(payload));
  return { headline, summary, extras, decide };
}

/** Cuts to at most max UTF-16 units with an ellipsis, never through a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
  return `${text.slice(0, end)}…`;
}

/** Portal page of a request: where to read it and decide. */
export const requestLink = (baseUrl: string, requestId: string) => `${baseUrl.replace(/\/+$/, '')}/requests/${encodeURIComponent(requestId)}`;

/** Where an event's message points: the request, or for an extendable grant's expiry notice, its extension form. */
export const eventLink = (baseUrl: string, payload: Pick<EventPayload, 'type' | 'request' | 'data'>) =>
  extendsFromNotice(payload) ? `${requestLink(baseUrl, payload.request.id)}?extend=1` : requestLink(baseUrl, payload.request.id);

/** True for an `expiring_soon` notice of a grant its template lets the requester extend. */
export const extendsFromNotice = (payload: Pick<EventPayload, 'type' | 'data'>) => payload.type === 'access_request.expiring_soon' && payload.data.extendable === true;

/** The sentence of the three extension events; the extension's own duration is how much it adds. */
function extensionSummary(payload: EventPayload, who: { mine: boolean; requester: string; actor: string; target: string }): string {
  const more = formatDuration(payload.request.duration_mins);
  const until = typeof payload.data.expires_at === 'string' ? ` It now lasts until ${formatInstant(payload.data.expires_at)}.` : '';
  switch (payload.type) {
    case 'access_request.extension_requested':
      return who.mine ? `You asked to extend your access to ${who.target} by ${more}.` : `${who.requester} asks to extend their access to ${who.target} by ${more}.`;
    case 'access_request.extended': {
      const how = payload.data.auto === true ? 'automatically' : `by ${who.actor}`;
      return who.mine ? `Your access to ${who.target} was extended ${how}.${until}` : `${who.requester}'s access to ${who.target} was extended ${how}.${until}`;
    }
    default:
      return who.mine ? `${who.actor} denied your request to extend your access to ${who.target}.` : `${who.actor} denied ${who.requester}'s request to extend their access to ${who.target}.`;
  }
}
