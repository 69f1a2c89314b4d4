import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError, assertThat, conflict, forbidden, invalidField, notFound, unauthenticated } from '../../http/errors.ts';
import type { OutboundPolicy } from '../../net/safe-fetch.ts';
import { newId } from '../../security/ids.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { SYSTEM } from '../../http/actor.ts';
import { createApplicationsRepo } from '../applications/applications.repo.ts';
import { createDeliveriesRepo } from '../deliveries/deliveries.repo.ts';
import { outboundUrlError } from '../event-actions/index.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { verificationClaims, type SetKeys } from './ssf-set.ts';
import { authorizationHeaderAt, eventsDelivered, orderingKeyOf, pushSet, targetOf, type SsfPerformerDeps } from './ssf.delivery.ts';
import { createSsfRepo, lockStream, type StreamRow } from './ssf.repo.ts';
import {
  EVENTS_SUPPORTED,
  POLL_METHOD,
  PUSH_METHOD,
  SCOPE_MANAGE,
  SCOPE_READ,
  SSF_AUDIENCE,
  type CreateStreamIn,
  type PollIn,
  type ReplaceStreamIn,
  type StatusIn,
  type StreamOut,
  type SubjectIn,
  type UpdateStreamIn,
} from './ssf.types.ts';

/** Whether a user has a grant, consent or mapping for an application (DESIGN "Signals"): compose.ts answers from the claims and the provider's grants. */
export type RelatesTo = (trx: Tx, userId: string, appId: string) => Promise<boolean>;

export interface SsfServiceDeps extends SsfPerformerDeps {
  core: Pick<Core, 'db' | 'dialect' | 'clock' | 'baseUrl' | 'audit'>;
  encrypter: Encrypter;
  keys: SetKeys;
  relatesTo: RelatesTo;
  /** Locks the application's row (applications module, through compose.ts): true while it is live. */
  lockLiveApp: (trx: Tx, appId: string) => Promise<boolean>;
  /** Streams one application may have. */
  maxStreamsPerApp: number;
  /** How long a poll without returnImmediately waits for an event (real time). */
  longPollMs: number;
  outbound: OutboundPolicy;
}

/** The receiver calling: an application, and whether its token may change streams. */
export interface Receiver {
  appId: string;
  canManage: boolean;
}

const streamNotFound = () => notFound('stream');

/**
 * SSF 1.0 stream management (§8) for receivers: each an OIDC application calling with an
 * access token from its client-credentials grant for the built-in SSF resource server
 * (`urn:interim:ssf`), with scope `ssf.manage` (write) or `ssf.read` (read). A stream
 * belongs to the application that created it; another's is 404.
 */
export function createSsfService(deps: SsfServiceDeps) {
  const { core } = deps;
  const { db, clock, dialect } = core;
  const issuer = deps.issuer;

  function toOut(s: StreamRow): StreamOut {
    const requested = JSON.parse(s.events_requested) as string[];
    return {
      stream_id: s.id,
      iss: issuer,
      aud: s.app_id,
      events_supported: [...EVENTS_SUPPORTED],
      events_requested: requested,
      events_delivered: eventsDelivered(s),
      delivery: s.delivery_method === 'push' ? { method: PUSH_METHOD, endpoint_url: s.endpoint_url ?? undefined } : { method: POLL_METHOD, endpoint_url: `${core.baseUrl}/ssf/poll/${s.id}` },
      ...(s.description ? { description: s.description } : {}),
      format: s.format,
      min_verification_interval: 0,
    };
  }

  async function ownStream(receiver: Receiver, id: string, executor = db as Tx | typeof db): Promise<StreamRow> {
    const stream = await createSsfRepo(executor).findStream(id);
    assertThat(stream && stream.app_id === receiver.appId, streamNotFound());
    return stream;
  }

  /**
   * Stream changes are audited: the actor is `system` (a receiver is an application, not a
   * person) and `data.app_id` names the application whose token made the change.
   */
  const audited = (trx: Tx, receiver: Receiver, action: string, stream: StreamRow, data: Record<string, unknown> = {}) =>
    core.audit.append(trx, { actor: SYSTEM, action, targetType: 'ssf_stream', targetId: stream.id, data: { app_id: receiver.appId, ...data } });
  const auditFields = (s: StreamRow) => ({ delivery_method: s.delivery_method, endpoint_url: s.endpoint_url, events_requested: JSON.parse(s.events_requested) as string[], format: s.format, description: s.description, authorization_header_set: s.authorization_header_encrypted !== null });

  const mustManage = (receiver: Receiver) => assertThat(receiver.canManage, forbidden(`this needs an access token with scope ${SCOPE_MANAGE}`));

  /** The delivery columns of a stream, checked (SSRF rules of webhooks) and its authorization header sealed. */
  function deliveryColumns(id: string, delivery: CreateStreamIn['delivery']): Pick<StreamRow, 'delivery_method' | 'endpoint_url' | 'authorization_header_encrypted'> {
    if (!delivery || delivery.method === POLL_METHOD) return { delivery_method: 'poll', endpoint_url: null, authorization_header_encrypted: null };
    const problem = outboundUrlError(delivery.endpoint_url, { allowPrivate: deps.outbound.allowPrivate });
    if (problem) throw invalidField('delivery.endpoint_url', problem);
    return {
      delivery_method: 'push',
      endpoint_url: delivery.endpoint_url,
      authorization_header_encrypted: delivery.authorization_header ? deps.encrypter.encrypt(delivery.authorization_header, authorizationHeaderAt(id)) : null,
    };
  }

  /** Releases a resumed push stream's held events, oldest first, as deliveries (its lock is held). */
  async function releaseHeld(trx: Tx, stream: StreamRow): Promise<void> {
    const repo = createSsfRepo(trx);
    const held = await repo.heldOf(stream.id);
    if (held.length === 0) return;
    await createDeliveriesRepo(trx).enqueueMany(
      clock,
      held.map((h) => ({ event: { id: h.event_id, request: null }, deliveries: [{ channel: 'ssf' as const, target: targetOf(stream.id), orderingKey: orderingKeyOf(stream.id, h.user_id), maxAttempts: deps.maxAttempts }] })),
    );
    await repo.deleteHeld(stream.id);
  }

  /** The user a subject names, if it names one of ours (unknown subjects are accepted and ignored). */
  async function userOf(trx: Tx, subject: SubjectIn): Promise<string | undefined> {
    const users = createUsersRepo(trx);
    if (subject.format === 'email') return (await users.findByEmail(subject.email.trim().toLowerCase()))?.id;
    if (subject.iss !== issuer) return undefined;
    return (await users.findById(subject.sub))?.id;
  }

  return {
    issuer,

    /** Who calls: the access token's application and scopes; 401 without a valid token, 403 without an SSF scope. */
    authenticate: async (authorization: string | undefined): Promise<Receiver> => {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      assertThat(token, unauthenticated());
      let claims;
      try {
        claims = await deps.keys.verifyAccessToken(token, issuer, SSF_AUDIENCE);
      } catch {
        throw new AppError(401, 'invalid_token', 'the access token is not valid for SSF management');
      }
      const appId = typeof claims.client_id === 'string' ? claims.client_id : undefined;
      assertThat(appId && (await createApplicationsRepo(db).isLive(appId)), new AppError(401, 'invalid_token', 'the access token is not valid for SSF management'));
      const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
      assertThat(scopes.includes(SCOPE_MANAGE) || scopes.includes(SCOPE_READ), forbidden(`this needs an access token with scope ${SCOPE_READ} or ${SCOPE_MANAGE}`));
      return { appId, canManage: scopes.includes(SCOPE_MANAGE) };
    },

    create: async (receiver: Receiver, input: CreateStreamIn): Promise<StreamOut> => {
      mustManage(receiver);
      const now = clock.now();
      const id = newId(clock);
      const row: StreamRow = {
        id,
        app_id: receiver.appId,
        ...deliveryColumns(id, input.delivery),
        events_requested: JSON.stringify(input.events_requested ?? EVENTS_SUPPORTED),
        format: input.format ?? 'iss_sub',
        description: input.description ?? '',
        status: 'enabled',
        status_reason: null,
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute(async (trx) => {
        // The application's row is locked so that two creations cannot both pass the cap.
        assertThat(await deps.lockLiveApp(trx, receiver.appId), new AppError(401, 'invalid_token', 'the application no longer exists'));
        const repo = createSsfRepo(trx);
        const count = await repo.countOfApp(receiver.appId);
        assertThat(count < deps.maxStreamsPerApp, conflict('too_many_streams', `an application may have at most ${deps.maxStreamsPerApp} streams`));
        await repo.insertStream(row);
        await audited(trx, receiver, 'ssf_stream.created', row, auditFields(row));
      });
      return toOut(row);
    },

    get: async (receiver: Receiver, id: string): Promise<StreamOut> => toOut(await ownStream(receiver, id)),

    list: async (receiver: Receiver): Promise<StreamOut[]> => (await createSsfRepo(db).listOfApp(receiver.appId)).map(toOut),

    /** PATCH (only the fields given) or PUT (`replace`: every receiver-supplied field). A new delivery replaces the old whole, its authorization header included. */
    update: async (receiver: Receiver, input: UpdateStreamIn | ReplaceStreamIn, replace: boolean): Promise<StreamOut> => {
      mustManage(receiver);
      return db.transaction().execute(async (trx) => {
        await lockStream(trx, dialect, input.stream_id);
        const before = await ownStream(receiver, input.stream_id, trx);
        const patch: Partial<StreamRow> = { updated_at: clock.now() };
        if (input.delivery || replace) Object.assign(patch, deliveryColumns(before.id, input.delivery));
        const repo = createSsfRepo(trx);
        // What waited for the old method cannot go by the new one (held pushes name only the event; queued polls are SETs).
        if (patch.delivery_method && patch.delivery_method !== before.delivery_method) {
          await repo.deleteHeld(before.id);
          await repo.clearPoll(before.id);
        }
        if (input.events_requested || replace) patch.events_requested = JSON.stringify(input.events_requested ?? EVENTS_SUPPORTED);
        if (input.description !== undefined || replace) patch.description = input.description ?? '';
        if (input.format || replace) patch.format = input.format ?? 'iss_sub';
        await repo.updateStream(before.id, patch);
        const after = (await repo.findStream(before.id))!;
        await audited(trx, receiver, 'ssf_stream.updated', after, { before: auditFields(before), after: auditFields(after) });
        return toOut(after);
      });
    },

    remove: async (receiver: Receiver, id: string): Promise<void> => {
      mustManage(receiver);
      await db.transaction().execute(async (trx) => {
        await lockStream(trx, dialect, id);
        const stream = await ownStream(receiver, id, trx);
        await createSsfRepo(trx).deleteStream(id);
        await audited(trx, receiver, 'ssf_stream.deleted', stream, auditFields(stream));
      });
    },

    status: async (receiver: Receiver, id: string) => {
      const s = await ownStream(receiver, id);
      return { stream_id: s.id, status: s.status, ...(s.status_reason ? { reason: s.status_reason } : {}) };
    },

    /**
     * Enables, pauses or disables a stream. Resuming a push stream releases what it held,
     * under the stream's lock, so an event recorded meanwhile is either held (and released
     * here) or sees the stream enabled. Disabling drops what it held or had queued.
     */
    setStatus: async (receiver: Receiver, input: StatusIn) => {
      mustManage(receiver);
      return db.transaction().execute(async (trx) => {
        await lockStream(trx, dialect, input.stream_id);
        const stream = await ownStream(receiver, input.stream_id, trx);
        const repo = createSsfRepo(trx);
        await repo.updateStream(stream.id, { status: input.status, status_reason: input.reason ?? null, updated_at: clock.now() });
        if (input.status !== stream.status) await audited(trx, receiver, 'ssf_stream.status_changed', stream, { from: stream.status, to: input.status, reason: input.reason ?? null });
        if (input.status === 'enabled') await releaseHeld(trx, stream);
        if (input.status === 'disabled') {
          await repo.deleteHeld(stream.id);
          await repo.clearPoll(stream.id);
        }
        return { stream_id: stream.id, status: input.status, ...(input.reason ? { reason: input.reason } : {}) };
      });
    },

    /**
     * SSF 1.0 §8.1.3: adds a subject. Always answered 204 (DESIGN): a subject that is not one
     * of our users, or a user with no grant, consent or mapping for this application, is
     * accepted and never heard of.
     */
    addSubject: async (receiver: Receiver, streamId: string, subject: SubjectIn): Promise<void> => {
      mustManage(receiver);
      await db.transaction().execute(async (trx) => {
        await ownStream(receiver, streamId, trx);
        const userId = await userOf(trx, subject);
        if (userId && (await deps.relatesTo(trx, userId, receiver.appId))) await createSsfRepo(trx).addSubject(streamId, userId, clock.now());
      });
    },

    removeSubject: async (receiver: Receiver, streamId: string, subject: SubjectIn): Promise<void> => {
      mustManage(receiver);
      await db.transaction().execute(async (trx) => {
        await ownStream(receiver, streamId, trx);
        const userId = await userOf(trx, subject);
        if (userId) await createSsfRepo(trx).removeSubject(streamId, userId);
      });
    },

    /**
     * SSF 1.0 §8.1.4: a verification SET with the receiver's `state`, through the stream's
     * delivery: queued for a poll stream; pushed at once, after the answer, for a push stream.
     */
    verify: async (receiver: Receiver, streamId: string, state: string | undefined): Promise<{ push?: () => Promise<void> }> => {
      mustManage(receiver);
      const stream = await ownStream(receiver, streamId);
      assertThat(stream.status !== 'disabled', conflict('stream_disabled', 'the stream is disabled'));
      const claims = verificationClaims(stream, issuer, newId(clock), state);
      if (stream.delivery_method === 'poll') {
        await createSsfRepo(db).queuePoll([{ jti: claims.jti, position: newId(clock), stream_id: stream.id, claims: JSON.stringify(claims), created_at: clock.now() }]);
        return {};
      }
      return {
        push: async () => {
          await pushSet(deps, stream, claims);
        },
      };
    },

    /**
     * RFC 8936: acknowledges (`ack`, and `setErrs`, which end a SET too), then answers up to
     * `maxEvents` SETs not yet acknowledged, signed now, with `moreAvailable`. Without
     * `returnImmediately` an empty answer waits up to longPollMs for an event.
     */
    poll: async (receiver: Receiver, streamId: string, input: PollIn) => {
      const stream = await ownStream(receiver, streamId);
      assertThat(stream.delivery_method === 'poll', invalidField('stream_id', 'the stream delivers by push, not poll'));
      const repo = createSsfRepo(db);
      await repo.acknowledge(stream.id, [...(input.ack ?? []), ...Object.keys(input.setErrs ?? {})]);
      const max = input.maxEvents ?? 100;
      const read = async () => ((await repo.findStream(stream.id))?.status === 'enabled' && max > 0 ? repo.pollBatch(stream.id, max + 1) : []);
      let rows = await read();
      const deadline = performance.now() + (input.returnImmediately === false && max > 0 ? deps.longPollMs : 0);
      while (rows.length === 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        rows = await read();
      }
      const sets: Record<string, string> = {};
      for (const row of rows.slice(0, max)) sets[row.jti] = await deps.keys.sign(JSON.parse(row.claims));
      return { sets, moreAvailable: rows.length > max };
    },
  };
}
export type SsfService = ReturnType<typeof createSsfService>;
