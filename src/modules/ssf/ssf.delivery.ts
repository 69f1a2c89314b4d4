import type { Core } from '../../core.ts';
import type { OutboundPolicy, OutboundRequest, OutboundResponse } from '../../net/safe-fetch.ts';
import { newId } from '../../security/ids.ts';
import { createSemaphore } from '../../security/semaphore.ts';
import type { Encrypter, SealedAt } from '../../security/encryption.ts';
import type { DeliveryRow, NewDelivery } from '../deliveries/deliveries.repo.ts';
import { isSignalPayload, type OutboxPayload, type SignalPayload } from '../event-payload/signal-payload.types.ts';
import type { SignalSink } from '../signals/signals.types.ts';
import { setClaimsFor, type SetClaims, type SetKeys } from './ssf-set.ts';
import { createSsfRepo, lockStream, type StreamRow } from './ssf.repo.ts';
import { EVENT_OF_SIGNAL, EVENTS_SUPPORTED } from './ssf.types.ts';

/** Result of one attempt, as the dispatcher's Performer answers it (events/dispatcher.ts). */
interface Result {
  ok: boolean;
  responseStatus?: number;
  error?: string;
  final?: boolean;
}

export const authorizationHeaderAt = (streamId: string): SealedAt => ({ table: 'ssf_streams', column: 'authorization_header_encrypted', row: streamId });
export const targetOf = (streamId: string) => `ssf:${streamId}`;
export const orderingKeyOf = (streamId: string, userId: string) => `ssf:${streamId}:${userId}`;

/** What the stream delivers: what it asked for, of what the transmitter supports (all of them when it asked for none). */
export function eventsDelivered(stream: Pick<StreamRow, 'events_requested'>): string[] {
  const requested = JSON.parse(stream.events_requested) as string[];
  return requested.filter((t) => EVENTS_SUPPORTED.includes(t));
}

export interface SsfDeliveryDeps {
  core: Pick<Core, 'db' | 'dialect' | 'clock'>;
  issuer: string;
  maxAttempts: number;
}

/**
 * The SSF sink (signals.types.ts): for the signals of one call, in their transaction, with
 * one look-up of the streams that follow their users, the streams that hear of each — not disabled, asking for the event, and having added the user
 * as a subject (only users with a grant, consent or mapping for the application are kept,
 * at add time); a claims change only for the application it concerns. Enabled push
 * streams get a delivery on channel `ssf`, ordered per (stream, subject); paused push
 * streams hold the event (no attempt spent) until resumed; poll streams queue its SET.
 */
export function createSsfSink(deps: SsfDeliveryDeps): SignalSink {
  return {
    async deliveriesFor(trx, payloads) {
      const repo = createSsfRepo(trx);
      const following = new Map<string, StreamRow[]>();
      for (const row of await repo.streamsOfSubjects(deps.core.dialect, [...new Set(payloads.map((p) => p.subject.user_id))])) {
        const streams = following.get(row.subject_user_id) ?? [];
        following.set(row.subject_user_id, [...streams, row]);
      }
      const held: { id: string; stream_id: string; event_id: string; user_id: string }[] = [];
      const polled: { jti: string; position: string; stream_id: string; claims: string; created_at: number }[] = [];
      const purged = new Set<string>();
      const now = deps.core.clock.now();
      const out = payloads.map((payload) => {
        const userId = payload.subject.user_id;
        // Told once, then forgotten: nothing recorded after a user's purge reaches a stream.
        if (purged.has(userId)) return [];
        if (payload.type === 'signal.account_purged') purged.add(userId);
        const event = EVENT_OF_SIGNAL[payload.type];
        const mine: NewDelivery[] = [];
        for (const stream of following.get(userId) ?? []) {
          if (payload.app_id !== null && stream.app_id !== payload.app_id) continue;
          if (!eventsDelivered(stream).includes(event)) continue;
          if (stream.delivery_method === 'poll') {
            const claims = setClaimsFor(payload, stream, deps.issuer);
            polled.push({ jti: claims.jti, position: newId(deps.core.clock), stream_id: stream.id, claims: JSON.stringify(claims), created_at: now });
          } else if (stream.status === 'paused') {
            held.push({ id: newId(deps.core.clock), stream_id: stream.id, event_id: payload.id, user_id: userId });
          } else {
            mine.push({ channel: 'ssf', target: targetOf(stream.id), orderingKey: orderingKeyOf(stream.id, userId), maxAttempts: deps.maxAttempts });
          }
        }
        return mine;
      });
      await repo.hold(held);
      await repo.queuePoll(polled);
      // A purged user's subject rows go with the last event about them.
      for (const userId of purged) await repo.forgetUser(userId);
      return out;
    },
  };
}

export interface SsfPerformerDeps extends SsfDeliveryDeps {
  encrypter: Pick<Encrypter, 'decrypt'>;
  keys: Pick<SetKeys, 'sign'>;
  fetch: (url: string, request: OutboundRequest, policy: OutboundPolicy) => Promise<OutboundResponse>;
  outbound: OutboundPolicy;
}

/** POSTs one signed SET to a push stream (RFC 8935 §2): 202 or 200 is delivered; a 4xx with an error body is final; the rest retries. */
export async function pushSet(deps: SsfPerformerDeps, stream: StreamRow, claims: SetClaims): Promise<Result> {
  if (!stream.endpoint_url) return { ok: false, final: true, error: 'the stream has no push endpoint' };
  const jwt = await deps.keys.sign(claims);
  const headers: Record<string, string> = { 'content-type': 'application/secevent+jwt', accept: 'application/json', 'user-agent': 'Interim-SSF/1' };
  if (stream.authorization_header_encrypted) headers.authorization = deps.encrypter.decrypt(stream.authorization_header_encrypted, authorizationHeaderAt(stream.id));
  const response = await deps.fetch(stream.endpoint_url, { method: 'POST', headers, body: jwt }, deps.outbound);
  if (response.status === 202 || response.status === 200) return { ok: true, responseStatus: response.status };
  const detail = `HTTP ${response.status}: ${response.body.slice(0, 500)}`;
  // RFC 8935 §2.3: the receiver refused this SET (invalid_request, invalid_key, authentication_failed, …); sending it again cannot help.
  const final = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  return { ok: false, final, responseStatus: response.status, error: detail };
}

/** Pushes one process sends to one stream at once (DESIGN: bounded concurrency per receiver); the dispatcher's own limit bounds the total. */
export const PUSHES_PER_STREAM = 8;

/**
 * The `ssf` channel's performer: signs the signal's SET for the delivery's stream and
 * pushes it. A stream deleted or disabled since drops it; one paused since holds it again
 * (released on resume), without spending an attempt.
 */
export function createSsfPerformer(deps: SsfPerformerDeps) {
  const perStream = new Map<string, ReturnType<typeof createSemaphore>>();
  const slotOf = (streamId: string) => {
    let semaphore = perStream.get(streamId);
    if (!semaphore) perStream.set(streamId, (semaphore = createSemaphore(PUSHES_PER_STREAM)));
    return semaphore;
  };
  return async (delivery: DeliveryRow, payload: OutboxPayload): Promise<Result> => {
    if (!isSignalPayload(payload)) return { ok: false, final: true, error: `the ssf channel cannot carry ${payload.type}` };
    const streamId = delivery.target.replace(/^ssf:/, '');
    const stream = await createSsfRepo(deps.core.db).findStream(streamId);
    if (!stream) return { ok: false, final: true, error: 'the stream no longer exists' };
    if (stream.status === 'disabled') return { ok: false, final: true, error: 'the stream is disabled: the event was dropped' };
    if (stream.status === 'paused' && (await holdAgain(deps, stream.id, payload))) return { ok: true, error: 'held: the stream is paused' };
    if (!eventsDelivered(stream).includes(EVENT_OF_SIGNAL[payload.type])) return { ok: false, final: true, error: 'the stream no longer asks for this event' };
    return slotOf(stream.id).run(() => pushSet(deps, stream, setClaimsFor(payload, stream, deps.issuer)));
  };
}

/** Puts the event back among the stream's held events, if the stream is still paused (checked under its lock). */
async function holdAgain(deps: SsfPerformerDeps, streamId: string, payload: SignalPayload): Promise<boolean> {
  return deps.core.db.transaction().execute(async (trx) => {
    await lockStream(trx, deps.core.dialect, streamId);
    const repo = createSsfRepo(trx);
    if ((await repo.findStream(streamId))?.status !== 'paused') return false;
    await repo.hold([{ id: newId(deps.core.clock), stream_id: streamId, event_id: payload.id, user_id: payload.subject.user_id }]);
    return true;
  });
}
