import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AccessSignal } from '../src/modules/signals/signals.types.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { addSubjectsByInject, EVENTS, POLL, pushStream, pushStreamByInject, receiverApp, record, startSsfReceiver, subjectOf, verifySet, type SsfReceiver } from './helpers/ssf.ts';
import type { TestServer } from './helpers/server.ts';

const admin = 'admin' as const;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver application with a push stream (iss_sub) and one subject; what the test records about that subject reaches this stream only. */
async function pushSetup(s: TestServer, receiver: SsfReceiver, extra: Record<string, unknown> = {}) {
  const r = await receiverApp(s);
  const api = await r.api();
  const stream = await pushStream(api, receiver, extra);
  const user = await subjectOf(s, r.app.id, 'subject');
  expect((await api.post('/ssf/subjects/add', { stream_id: stream, subject: { format: 'iss_sub', iss: `${s.url}/oidc`, sub: user.userId } })).status).toBe(204);
  return { ...r, api, stream, user, sets: () => receiver.accepted.filter((x) => x.aud === r.app.id) };
}

/** Signals become SETs: pushed (RFC 8935) through the outbox, or served by poll (RFC 8936). */
describeEachDialect(
  'SSF transmitter: delivery',
  (server, dialect) => {
    let receiver: SsfReceiver;
    beforeAll(async () => {
      receiver = await startSsfReceiver(server());
    });
    afterAll(async () => {
      expect(receiver.problems).toEqual([]);
      await receiver.close();
    });

    it('pushes one signed SET per signal, of each of the six kinds, with the CAEP/RISC event claims', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      const { app, user } = setup;
      const before = s.app.core.clock.now();
      const signals: AccessSignal[] = [
        { type: 'claims_changed', userId: user.userId, appId: app.id, reason: 'grant revoked', initiator: admin, grantEnded: true },
        { type: 'sessions_ended', userId: user.userId, reason: 'account disabled by an admin', initiator: admin, sessions: [] },
        { type: 'credential_changed', userId: user.userId, reason: 'password changed', initiator: 'user' },
        { type: 'account_disabled', userId: user.userId, reason: 'disabled', initiator: admin },
        { type: 'account_enabled', userId: user.userId, reason: 'enabled', initiator: admin },
        { type: 'account_purged', userId: user.userId, reason: 'deleted', initiator: admin, email: user.email },
      ];
      for (const signal of signals) await record(s, [signal]);
      // A claims change of another application is not this receiver's business.
      const elsewhere = await receiverApp(s);
      await record(s, [{ type: 'claims_changed', userId: user.userId, appId: elsewhere.app.id, reason: 'other app', initiator: admin }]);
      await s.app.runWorkerOnce();

      const sets = setup.sets();
      expect(sets.map((x) => Object.keys(x.events)[0])).toEqual([EVENTS.claims, EVENTS.session, EVENTS.credential, EVENTS.disabled, EVENTS.enabled, EVENTS.purged]);
      const subject = { format: 'iss_sub', iss: `${s.url}/oidc`, sub: user.userId };
      for (const set of sets) {
        expect(set).toMatchObject({ iss: `${s.url}/oidc`, aud: app.id, sub_id: subject });
        expect(set.iat! * 1000).toBeGreaterThanOrEqual(before - 1000);
        const outbox = await s.app.core.db.selectFrom('outbox_events').select('type').where('id', '=', set.txn!).executeTakeFirst();
        expect(outbox?.type).toMatch(/^signal\./);
      }
      const caep = (set: (typeof sets)[number]) => Object.values(set.events)[0]!;
      expect(caep(sets[0]!)).toMatchObject({ claims: { role: 'reader' }, initiating_entity: 'admin', reason_admin: { en: 'grant revoked' } });
      expect(caep(sets[0]!).event_timestamp).toEqual(expect.any(Number));
      expect(caep(sets[1]!)).toMatchObject({ initiating_entity: 'admin', reason_admin: { en: 'account disabled by an admin' } });
      expect(caep(sets[2]!)).toMatchObject({ credential_type: 'password', change_type: 'update', initiating_entity: 'user' });
      for (const set of sets.slice(3)) expect(caep(set)).toEqual({});
      expect(receiver.attempts.filter((a) => sets.some((x) => x.jti === a.jti)).every((a) => a.authorization === 'Bearer receiver-secret' && a.contentType === 'application/secevent+jwt')).toBe(true);

      // Purged: the user is no stream's subject any more.
      expect(await s.app.core.db.selectFrom('ssf_subjects').select('stream_id').where('user_id', '=', user.userId).execute()).toEqual([]);
      const deliveries = await s.admin.get('/api/v1/deliveries?channel=ssf&limit=100');
      expect(deliveries.body.items.filter((d: { target: string; status: string }) => d.target === `ssf:${setup.stream}`).map((d: { status: string }) => d.status)).toEqual(Array(6).fill('succeeded'));
    });

    it('creates a push stream and adds subjects in process (app.http.inject), as a benchmark does', async () => {
      const s = server();
      const created = await s.admin.post('/api/v1/applications', { name: `Inject ${Date.now()}`, redirect_uris: ['http://127.0.0.1:9/cb'], grant_types: ['authorization_code', 'client_credentials'] });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const client = { id: created.body.id as string, secret: created.body.client_secret as string };
      const { streamId, token } = await pushStreamByInject(s.app, s.adminToken, client, `${receiver.url}/inject`, { events: [EVENTS.disabled], authorizationHeader: 'Bearer receiver-secret' });
      const users = await Promise.all([1, 2, 3].map((i) => subjectOf(s, client.id, `inject${i}`)));
      await addSubjectsByInject(s.app, token, streamId, users.map((u) => u.userId));
      await record(s, users.map((u) => ({ type: 'account_disabled' as const, userId: u.userId, reason: 'bulk', initiator: admin })));
      await s.app.runWorkerOnce();
      expect(receiver.accepted.filter((x) => x.aud === client.id).map((x) => x.sub_id.sub).sort()).toEqual(users.map((u) => u.userId).sort());
    });

    it('sends only the events a stream asks for, with sub_id in its format', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver, { events_requested: [EVENTS.session], format: 'email' });
      await record(s, [
        { type: 'sessions_ended', userId: setup.user.userId, reason: 'signed out everywhere', initiator: 'user', sessions: [] },
        { type: 'credential_changed', userId: setup.user.userId, reason: 'password changed', initiator: 'user' },
      ]);
      await s.app.runWorkerOnce();
      expect(setup.sets().map((x) => [Object.keys(x.events)[0], x.sub_id])).toEqual([[EVENTS.session, { format: 'email', email: setup.user.email }]]);
    });

    it('sends nothing for an application that was deleted, whose tokens no longer work', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      expect((await s.admin.delete(`/api/v1/applications/${setup.app.id}`)).status).toBe(204);
      await record(s, [{ type: 'account_disabled', userId: setup.user.userId, reason: 'disabled', initiator: admin }]);
      await s.app.runWorkerOnce();
      expect(setup.sets()).toEqual([]);
      expect((await setup.api.get('/ssf/streams')).status).toBe(401);
    });

    it('retries a 5xx with the same jti, and gives up at once on a 4xx with an RFC 8935 error', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      receiver.answer(503);
      await record(s, [{ type: 'account_disabled', userId: setup.user.userId, reason: 'disabled', initiator: admin }]);
      await s.app.runWorkerOnce();
      expect(setup.sets()).toEqual([]);
      await pause(400);
      await s.app.runWorkerOnce();
      const [set] = setup.sets();
      expect(set).toBeDefined();
      expect(receiver.attempts.filter((a) => a.jti === set!.jti)).toHaveLength(2);

      receiver.answer(400);
      await record(s, [{ type: 'account_enabled', userId: setup.user.userId, reason: 'enabled', initiator: admin }]);
      await s.app.runWorkerOnce();
      await pause(400);
      await s.app.runWorkerOnce();
      const dead = await s.admin.get('/api/v1/deliveries?channel=ssf&status=dead&limit=100');
      const mine = dead.body.items.filter((d: { target: string }) => d.target === `ssf:${setup.stream}`);
      expect(mine).toHaveLength(1);
      expect(mine[0].attempts).toBe(1);
      expect(mine[0].last_error).toContain('invalid_request');
    });

    it('delivers in order per (stream, subject): a later SET waits for an earlier one that is retried', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      receiver.answer(500);
      for (let i = 1; i <= 5; i++) await record(s, [{ type: 'claims_changed', userId: setup.user.userId, appId: setup.app.id, reason: `step ${i}`, initiator: 'policy' }]);
      await s.app.runWorkerOnce();
      expect(setup.sets()).toEqual([]);
      await pause(400);
      await s.app.runWorkerOnce();
      expect(setup.sets().map((x) => (Object.values(x.events)[0]!.reason_admin as { en: string }).en)).toEqual(['step 1', 'step 2', 'step 3', 'step 4', 'step 5']);
    });

    it('pushes to one receiver with bounded concurrency, subjects in parallel', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      const users = [setup.user];
      for (let i = 0; i < 15; i++) {
        const user = await subjectOf(s, setup.app.id, `many${i}`);
        expect((await setup.api.post('/ssf/subjects/add', { stream_id: setup.stream, subject: { format: 'email', email: user.email } })).status).toBe(204);
        users.push(user);
      }
      await record(s, users.map((u) => ({ type: 'account_disabled' as const, userId: u.userId, reason: 'bulk', initiator: admin })));
      receiver.maxInFlight();
      const release = receiver.hold();
      const run = s.app.runWorkerOnce();
      // The dispatcher claims up to 20 at once; the stream takes 8.
      await expect.poll(() => receiver.maxInFlight(), { timeout: 5000 }).toBe(8);
      release();
      await run;
      expect(setup.sets()).toHaveLength(16);
      expect(receiver.maxInFlight()).toBeLessThanOrEqual(8);
    });

    it('holds events while paused without spending attempts, releases them in order on resume, and drops them while disabled', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      const { api, stream, user } = setup;
      expect((await api.post('/ssf/status', { stream_id: stream, status: 'paused', reason: 'maintenance' })).status).toBe(200);
      for (let i = 1; i <= 3; i++) await record(s, [{ type: 'claims_changed', userId: user.userId, appId: setup.app.id, reason: `held ${i}`, initiator: admin }]);
      await s.app.runWorkerOnce();
      expect(setup.sets()).toEqual([]);
      const queued = await s.admin.get('/api/v1/deliveries?channel=ssf&limit=200');
      expect(queued.body.items.filter((d: { target: string }) => d.target === `ssf:${stream}`)).toEqual([]);

      expect((await api.post('/ssf/status', { stream_id: stream, status: 'enabled' })).status).toBe(200);
      await s.app.runWorkerOnce();
      expect(setup.sets().map((x) => (Object.values(x.events)[0]!.reason_admin as { en: string }).en)).toEqual(['held 1', 'held 2', 'held 3']);

      expect((await api.post('/ssf/status', { stream_id: stream, status: 'disabled', reason: 'not needed' })).status).toBe(200);
      await record(s, [{ type: 'account_disabled', userId: user.userId, reason: 'dropped', initiator: admin }]);
      expect((await api.post('/ssf/status', { stream_id: stream, status: 'enabled' })).status).toBe(200);
      await s.app.runWorkerOnce();
      expect(setup.sets()).toHaveLength(3);
    });

    it('holds again an event queued before the pause, and releases it before those recorded during the pause', async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      const { api, stream, user } = setup;
      const reasons = () => setup.sets().map((x) => (Object.values(x.events)[0]!.reason_admin as { en: string }).en);
      await record(s, [{ type: 'claims_changed', userId: user.userId, appId: setup.app.id, reason: 'before the pause', initiator: admin }]);
      expect((await api.post('/ssf/status', { stream_id: stream, status: 'paused' })).status).toBe(200);
      await record(s, [{ type: 'claims_changed', userId: user.userId, appId: setup.app.id, reason: 'during the pause', initiator: admin }]);
      await s.app.runWorkerOnce();
      expect(reasons()).toEqual([]);
      expect((await s.app.core.db.selectFrom('ssf_held').select('id').where('stream_id', '=', stream).execute()).length).toBe(2);
      expect((await api.post('/ssf/status', { stream_id: stream, status: 'enabled' })).status).toBe(200);
      await s.app.runWorkerOnce();
      expect(reasons()).toEqual(['before the pause', 'during the pause']);
    });

    it(`releases every event recorded while a resume runs concurrently, exactly once [${dialect}]`, async () => {
      const s = server();
      const setup = await pushSetup(s, receiver);
      const { api, stream, user } = setup;
      for (let round = 0; round < 3; round++) {
        expect((await api.post('/ssf/status', { stream_id: stream, status: 'paused' })).status).toBe(200);
        const recordings = Array.from({ length: 8 }, (_, i) => record(s, [{ type: 'claims_changed', userId: user.userId, appId: setup.app.id, reason: `r${round}-${i}`, initiator: admin }]));
        const [resumed] = await Promise.all([api.post('/ssf/status', { stream_id: stream, status: 'enabled' }), ...recordings]);
        expect(resumed.status).toBe(200);
      }
      await s.app.runWorkerOnce();
      const reasons = setup.sets().map((x) => (Object.values(x.events)[0]!.reason_admin as { en: string }).en);
      expect(reasons.sort()).toEqual(Array.from({ length: 3 }, (_, r) => Array.from({ length: 8 }, (_, i) => `r${r}-${i}`)).flat().sort());
      expect(new Set(setup.sets().map((x) => x.jti)).size).toBe(24);
      const held = await s.app.core.db.selectFrom('ssf_held').select('id').where('stream_id', '=', stream).execute();
      expect(held).toEqual([]);
    });

    it('serves a poll stream (RFC 8936): maxEvents, moreAvailable, ack, setErrs, and verification', async () => {
      const s = server();
      const r = await receiverApp(s);
      const api = await r.api();
      const created = await api.post('/ssf/streams', { delivery: { method: POLL } });
      expect(created.status).toBe(201);
      const stream = created.body.stream_id as string;
      const pollPath = new URL(created.body.delivery.endpoint_url as string).pathname;
      const user = await subjectOf(s, r.app.id, 'poller');
      expect((await api.post('/ssf/subjects/add', { stream_id: stream, subject: { format: 'email', email: user.email } })).status).toBe(204);
      await record(s, [{ type: 'account_disabled', userId: user.userId, reason: 'one', initiator: admin }]);
      await record(s, [{ type: 'sessions_ended', userId: user.userId, reason: 'two', initiator: admin, sessions: [] }]);
      await record(s, [{ type: 'account_enabled', userId: user.userId, reason: 'three', initiator: admin }]);

      const first = await api.post(pollPath, { maxEvents: 2, returnImmediately: true });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.moreAvailable).toBe(true);
      const firstJtis = Object.keys(first.body.sets);
      expect(firstJtis).toHaveLength(2);
      const verified = await Promise.all(Object.entries(first.body.sets as Record<string, string>).map(async ([jti, jwt]) => ({ jti, set: await verifySet(s, jwt, r.app.id) })));
      for (const { jti, set } of verified) expect(set.jti).toBe(jti);
      expect(verified.map((v) => Object.keys(v.set.events)[0])).toEqual([EVENTS.disabled, EVENTS.session]);
      // Not acknowledged: served again, same jti.
      expect(Object.keys((await api.post(pollPath, { maxEvents: 2, returnImmediately: true })).body.sets)).toEqual(firstJtis);

      const second = await api.post(pollPath, { ack: firstJtis, maxEvents: 10, returnImmediately: true });
      expect(second.body.moreAvailable).toBe(false);
      const [lastJti] = Object.keys(second.body.sets);
      expect((await verifySet(s, second.body.sets[lastJti!], r.app.id)).events).toHaveProperty(EVENTS.enabled);

      const third = await api.post(pollPath, { setErrs: { [lastJti!]: { err: 'invalid_request', description: 'unknown user' } }, returnImmediately: true });
      expect(third.body).toEqual({ sets: {}, moreAvailable: false });

      expect((await api.post('/ssf/verify', { stream_id: stream, state: 'poll-state' })).status).toBe(204);
      const verification = await api.post(pollPath, { returnImmediately: true });
      const [jwt] = Object.values(verification.body.sets as Record<string, string>);
      expect((await verifySet(s, jwt!, r.app.id)).events[EVENTS.verification]).toEqual({ state: 'poll-state' });

      // Without returnImmediately an empty poll waits for the next event (long poll).
      await api.post(pollPath, { ack: Object.keys(verification.body.sets), returnImmediately: true });
      const waiting = api.post(pollPath, { returnImmediately: false });
      await pause(300);
      await record(s, [{ type: 'credential_changed', userId: user.userId, reason: 'long poll', initiator: 'user' }]);
      const woken = await waiting;
      const [wokenJwt] = Object.values(woken.body.sets as Record<string, string>);
      expect((await verifySet(s, wokenJwt!, r.app.id)).events).toHaveProperty(EVENTS.credential);
      await api.post(pollPath, { ack: Object.keys(woken.body.sets), maxEvents: 0 });

      // Paused: nothing is served (held), then all of it on resume.
      await api.post(pollPath, { ack: Object.keys(verification.body.sets), returnImmediately: true });
      expect((await api.post('/ssf/status', { stream_id: stream, status: 'paused' })).status).toBe(200);
      await record(s, [{ type: 'account_disabled', userId: user.userId, reason: 'while paused', initiator: admin }]);
      expect((await api.post(pollPath, { returnImmediately: true })).body.sets).toEqual({});
      expect((await api.post('/ssf/status', { stream_id: stream, status: 'enabled' })).status).toBe(200);
      expect(Object.keys((await api.post(pollPath, { returnImmediately: true })).body.sets)).toHaveLength(1);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_DELIVERY_RETRY_BASE_MS: '100', INTERIM_DELIVERY_RETRY_MAX_MS: '200' },
);
