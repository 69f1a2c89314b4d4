import { z } from 'zod';
import type { DeliveryChannel, DeliveryStatus } from '../../db/schema.ts';
import { pageQuery } from '../../http/pagination.ts';
import { instant, searchText, toIso, toIsoOrNull } from '../../http/schemas.ts';
import type { AttemptRow, DeliveryView } from './deliveries.repo.ts';

export const DELIVERY_STATUSES = ['pending', 'running', 'succeeded', 'dead'] as const satisfies readonly DeliveryStatus[];
export const DELIVERY_CHANNELS = ['email', 'slack', 'webhook', 'script', 'trigger', 'backchannel_logout', 'ssf'] as const satisfies readonly DeliveryChannel[];
// Fails to compile when the table type gains a channel or status these lists lack.
const _everyChannel: Exclude<DeliveryChannel, (typeof DELIVERY_CHANNELS)[number]> extends never ? true : never = true;
const _everyStatus: Exclude<DeliveryStatus, (typeof DELIVERY_STATUSES)[number]> extends never ? true : never = true;

/** How many of a delivery's attempts each listing shows, newest first. */
export const RECENT_ATTEMPTS = 20;

export const listDeliveriesQuery = pageQuery.extend({
  q: searchText.optional().describe('part of the channel, the target or the event type, any case'),
  action_id: z.uuid().optional().describe('deliveries of one event action'),
  request_id: z.uuid().optional().describe('deliveries about one access request'),
  event_id: z.uuid().optional().describe('deliveries of one event'),
  status: z.enum(DELIVERY_STATUSES).optional(),
  channel: z.enum(DELIVERY_CHANNELS).optional(),
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;

export const actionDeliveriesQuery = listDeliveriesQuery.omit({ action_id: true });

const attemptOut = z.object({
  at: instant,
  ok: z.boolean(),
  duration_ms: z.number().int(),
  response_status: z.number().int().nullable().describe('the HTTP status the receiver answered, for webhook and Slack'),
  error: z.string().nullable(),
});

export const deliveryOut = z.object({
  id: z.uuid(),
  event_id: z.string().describe('the stable event id; webhooks send it as webhook-id'),
  event_type: z.string(),
  request_id: z.string().nullable(),
  channel: z.enum(DELIVERY_CHANNELS),
  target: z.string().describe('an email address, or the rule or script it goes to; a Slack target shows as slack:<action id>, never its URL'),
  action_id: z.string().nullable().describe('the event action that made it, if any'),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().describe('attempts since it was made or last retried'),
  max_attempts: z.number().int(),
  next_attempt_at: instant,
  last_error: z.string().nullable(),
  created_at: instant,
  completed_at: instant.nullable(),
  recent_attempts: z.array(attemptOut).describe(`the latest ${RECENT_ATTEMPTS} attempts, newest first`),
});
export type DeliveryOut = z.infer<typeof deliveryOut>;

/**
 * A Slack incoming-webhook URL is a secret, so a Slack delivery is named by its rule, and
 * any URL in its error text is cut to the origin.
 */
const redactUrls = (text: string) => text.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (url) => `${URL.parse(url)?.origin ?? 'URL'}/…`);

export function toDeliveryOut(d: DeliveryView, attempts: AttemptRow[]): DeliveryOut {
  const slack = d.channel === 'slack';
  const clean = (text: string | null) => (text !== null && slack ? redactUrls(text) : text);
  return {
    id: d.id,
    event_id: d.event_id,
    event_type: d.event_type,
    request_id: d.request_id,
    channel: d.channel,
    target: slack ? `slack:${d.action_id ?? 'notification'}` : d.target,
    action_id: d.action_id,
    status: d.status,
    attempts: d.attempts,
    max_attempts: d.max_attempts,
    next_attempt_at: toIso(d.next_attempt_at),
    last_error: clean(d.last_error),
    created_at: toIso(d.created_at),
    completed_at: toIsoOrNull(d.completed_at),
    recent_attempts: attempts.map((a) => ({
      at: toIso(a.at),
      ok: a.ok === 1,
      duration_ms: a.duration_ms,
      response_status: a.response_status,
      error: clean(a.error),
    })),
  };
}
