import { z } from 'zod';
import { instant } from '../../http/schemas.ts';

/**
 * A request's whole story (issue 14 §3), told from the facts already stored: its audit events
 * (and those of its extension requests), the outbox events they caused, and who those events
 * reached (in-app notifications, e-mail and Slack deliveries). Pure: the views load the facts,
 * this orders and words them, so every rule here is tested without a database.
 */

export interface AuditFact {
  seq: number;
  at: number;
  actor_id: string | null;
  action: string;
  request_id: string;
  data: Record<string, unknown>;
}

export interface OutboxFact {
  id: string;
  type: string;
  request_id: string;
  at: number;
}

/** One notice an outbox event caused: in the app (a user), by e-mail (an address) or to a Slack action. */
export type NoticeFact = { event_id: string; channel: 'in_app'; user_id: string } | { event_id: string; channel: 'email'; address: string } | { event_id: string; channel: 'slack' };

export interface Person {
  id: string;
  email: string;
  name: string;
}

export interface TimelineFacts {
  /** The request the timeline is of; audit events of other ids are its extension requests'. */
  requestId: string;
  audit: readonly AuditFact[];
  outbox: readonly OutboxFact[];
  notices: readonly NoticeFact[];
  /** The people the facts name (actors, notified users), deleted users included. */
  people: ReadonlyMap<string, Person>;
}

const personOut = z.object({ id: z.string(), email: z.string(), name: z.string() });

export const timelineRecipientOut = z.object({
  /** The user told, when known (in-app, or an e-mail to a user's address); null for a bare address or a Slack channel. */
  person: personOut.nullable(),
  /** An e-mail address that belongs to no user named here (an event action's watcher list). */
  address: z.string().nullable(),
  channels: z.array(z.enum(['in_app', 'email', 'slack'])),
});

export const timelineEntryOut = z.object({
  /** What happened: submitted, notified, escalated, stage_approved, approved, activated, denied, extension_requested, extension_denied, extended, expiring_soon, expired, revoked, cancelled, lapsed, provisioning_started, provisioning_failed, provisioning_timed_out, provisioning_reverted, break_glass_activated, break_glass_reviewed, break_glass_review_overdue. */
  kind: z.string(),
  at: instant,
  /** Who did it; null: Interim itself (auto-approval, the worker). */
  actor: personOut.nullable(),
  /** The decision comment, or the extension's justification. */
  comment: z.string().nullable(),
  /** Why it ended or changed: a revocation's or cancellation's reason, a failed provisioning's error, a revert's cause. */
  reason: z.string().nullable(),
  /** The approval stage (stage_approved, escalated in a later stage). */
  stage: z.number().int().nullable(),
  /** Minutes asked for (submitted, extension_requested) or added (extended). */
  duration_mins: z.number().int().nullable(),
  /** The access end this step set (approved, activated, extended). */
  expires_at: instant.nullable(),
  /** Decided by the template's rules, with nobody's approval (auto-approval or auto-extension). */
  auto: z.boolean(),
  /** The extension request this step belongs to, when it is one. */
  extension_id: z.string().nullable(),
  /** For `notified`: the step whose notices these are, and who was told how. */
  cause: z.string().nullable(),
  recipients: z.array(timelineRecipientOut),
});
export type TimelineEntry = z.infer<typeof timelineEntryOut>;
type Recipient = z.infer<typeof timelineRecipientOut>;

const PREFIX = 'access_request.';
/** Steps the discussion tells better (comment_added), or that say nothing more. */
const LEFT_OUT = new Set(['comment_added']);
/** From an extension request's own events, only these belong in the grant's story (its approval is the grant's `extended`). */
const FROM_EXTENSIONS = new Set(['extension_requested', 'extension_denied', 'stage_approved', 'escalated', 'cancelled', 'lapsed']);

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const isoOf = (v: unknown): string | null => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? new Date(Date.parse(v)).toISOString() : null);

function personOf(people: ReadonlyMap<string, Person>, id: string | null): Person | null {
  if (id === null) return null;
  return people.get(id) ?? { id, email: '', name: '(deleted user)' };
}

/** The words of one audit event, or null when it is not part of the story. */
function entryOf(fact: AuditFact, facts: TimelineFacts): TimelineEntry | null {
  if (!fact.action.startsWith(PREFIX)) return null;
  const kind = fact.action.slice(PREFIX.length);
  const ofExtension = fact.request_id !== facts.requestId;
  if (LEFT_OUT.has(kind) || (ofExtension && !FROM_EXTENSIONS.has(kind))) return null;
  const d = fact.data;
  const ownVote = Array.isArray(d.approvals) ? (d.approvals as { approver_id?: unknown; comment?: unknown }[]).find((v) => v.approver_id === fact.actor_id) : undefined;
  const reason =
    kind === 'provisioning_failed'
      ? text(d.error)
      : kind === 'provisioning_timed_out'
        ? 'the trigger task did not answer in time'
        : text(d.reason);
  return {
    kind,
    at: new Date(fact.at).toISOString(),
    actor: personOf(facts.people, fact.actor_id),
    comment: text(d.comment) ?? text(ownVote?.comment) ?? (kind === 'extension_requested' ? text(d.justification) : null),
    reason,
    stage: int(d.stage),
    duration_mins: kind === 'submitted' || kind === 'extension_requested' || kind === 'extended' ? int(d.duration_mins) : null,
    expires_at: kind === 'approved' || kind === 'activated' || kind === 'extended' || kind === 'extension_requested' ? isoOf(d.expires_at) : null,
    auto: d.auto === true,
    extension_id: ofExtension ? fact.request_id : (text(d.extension_id) ?? null),
    cause: null,
    recipients: [],
  };
}

/** Who one outbox event reached, people first (in the order first told), then bare addresses, then Slack. */
function recipientsOf(eventId: string, facts: TimelineFacts): Recipient[] {
  const byEmail = new Map([...facts.people.values()].filter((p) => p.email).map((p) => [p.email.toLowerCase(), p]));
  const told = new Map<string, Recipient>();
  const add = (key: string, base: Omit<Recipient, 'channels'>, channel: Recipient['channels'][number]) => {
    const r = told.get(key) ?? { ...base, channels: [] };
    if (!r.channels.includes(channel)) r.channels.push(channel);
    told.set(key, r);
  };
  for (const n of facts.notices) {
    if (n.event_id !== eventId) continue;
    if (n.channel === 'in_app') add(`u:${n.user_id}`, { person: personOf(facts.people, n.user_id), address: null }, 'in_app');
    else if (n.channel === 'email') {
      const person = byEmail.get(n.address.toLowerCase());
      if (person) add(`u:${person.id}`, { person, address: null }, 'email');
      else add(`a:${n.address.toLowerCase()}`, { person: null, address: n.address }, 'email');
    } else add('slack', { person: null, address: null }, 'slack');
  }
  const rank = (r: Recipient) => (r.person ? 0 : r.address ? 1 : 2);
  return [...told.values()].sort((a, b) => rank(a) - rank(b));
}

/** `at`: the step's own time when the notices are placed after it (the outbox stamps its event a few ms later, which would put them out of order). */
function notifiedEntry(event: OutboxFact, recipients: Recipient[], at: number): TimelineEntry {
  return {
    kind: 'notified',
    at: new Date(at).toISOString(),
    actor: null,
    comment: null,
    reason: null,
    stage: null,
    duration_mins: null,
    expires_at: null,
    auto: false,
    extension_id: null,
    cause: event.type.startsWith(PREFIX) ? event.type.slice(PREFIX.length) : event.type,
    recipients,
  };
}

/**
 * The request's timeline, oldest first: each audit event of the story in the order it was
 * written (its sequence number), each followed by a `notified` step naming who the event's
 * notices reached and how. An outbox event is matched to the audit event of the same request
 * and type written in the same place of their order (both are written in one transaction,
 * in the same order); one with no such audit event goes where its time puts it.
 */
export function buildTimeline(facts: TimelineFacts): TimelineEntry[] {
  const audit = [...facts.audit].sort((a, b) => a.seq - b.seq);
  const outbox = [...facts.outbox].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // The k-th outbox event of (request, type) belongs with the k-th audit event of the same.
  const pending = new Map<string, OutboxFact[]>();
  for (const event of outbox) {
    const key = `${event.request_id}|${event.type}`;
    pending.set(key, [...(pending.get(key) ?? []), event]);
  }
  const placed = new Set<string>();
  const entries: { entry: TimelineEntry; at: number }[] = [];
  for (const fact of audit) {
    const event = pending.get(`${fact.request_id}|${fact.action}`)?.shift();
    if (event) placed.add(event.id);
    const entry = entryOf(fact, facts);
    if (entry) entries.push({ entry, at: fact.at });
    const recipients = event ? recipientsOf(event.id, facts) : [];
    // A step left out of the story (a comment) keeps its notices out too: the discussion shows it.
    if (event && entry && recipients.length) entries.push({ entry: notifiedEntry(event, recipients, fact.at), at: fact.at });
  }
  for (const event of outbox) {
    if (placed.has(event.id)) continue;
    const recipients = recipientsOf(event.id, facts);
    if (recipients.length === 0) continue;
    // After every step of its time or before; stable for equal times.
    const at = event.at;
    const index = entries.findIndex((e) => e.at > at);
    const item = { entry: notifiedEntry(event, recipients, at), at };
    if (index === -1) entries.push(item);
    else entries.splice(index, 0, item);
  }
  return entries.map((e) => e.entry);
}
