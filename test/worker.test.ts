import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import type { DeliveryChannel } from '../src/db/schema.ts';
import { createDispatcher, type Performer } from '../src/modules/events/dispatcher.ts';
import { createDeliveriesRepo } from '../src/modules/deliveries/deliveries.repo.ts';
import type { SignalPayload } from '../src/modules/event-payload/signal-payload.types.ts';
import { insertSignalEvents } from '../src/modules/events/outbox.ts';
import { newId } from '../src/security/ids.ts';
import { escalateOverdueRequests } from '../src/modules/requests/due-notices.ts';
import { deliveryLeases } from '../src/compose.ts';
import { purgeExpiredState } from '../src/worker/purge.ts';
import { setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startHttpReceiver } from './helpers/receivers.ts';
import { eventually, startStallingReceiver } from './helpers/stalling-receiver.ts';

const stall = await startStallingReceiver();
const failing = await startHttpReceiver();
failing.answer(500);
afterAll(async () => {
  await stall.close();
  await failing.close();
});

/** The worker as it runs in the server: every task on its own timer, here every 100 ms. */
describeEachDialect(
  'the worker runs each task on its own schedule',
  (server, dialect) => {
    let s: AccessSetup;
    beforeAll(async () => {
      s = await setUpAccess(server());
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('expires and escalates on time while a delivery to a receiver that never answers is in flight', async () => {
      stall.stall();
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template();
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'hangs',
        event_types: ['access_request.approved'],
        template_id: templateId,
        kind: 'webhook',
        config: { url: `${stall.url}/never-answers-${dialect}` },
      });
      expect(action.status, JSON.stringify(action.body)).toBe(201);
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
      const undecided = (await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string;
      const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      expect(approved.status).toBe(200);
      // The worker's delivery task is now waiting on a receiver that will not answer for a minute.
      await eventually('the approval webhook to be in flight', () => stall.paths.includes(`/never-answers-${dialect}`));

      vi.setSystemTime(Date.parse(approved.body.expires_at) + 1);
      const status = async () => (await s.requester.client.get(`/api/v1/access-requests/${body.id}`)).body.status;
      await eventually('the grant to expire', async () => (await status()) === 'expired', 3000);
      const db = server().app.core.db;
      const expiredEvents = await db.selectFrom('outbox_events').select('id').where('request_id', '=', body.id).where('type', '=', 'access_request.expired').execute();
      expect(expiredEvents).toHaveLength(1);
      // Escalation has its own schedule too: the request nobody decided in 15 minutes is escalated.
      await eventually('the undecided request to be escalated', async () => (await s.outsider.client.get(`/api/v1/access-requests/${undecided}`)).body.escalated === true, 3000);
      // ... and the approval's delivery is still out there, unanswered.
      const approval = await db
        .selectFrom('deliveries as d')
        .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
        .select('d.status')
        .where('d.request_id', '=', body.id)
        .where('d.channel', '=', 'webhook')
        .where('e.type', '=', 'access_request.approved')
        .executeTakeFirstOrThrow();
      expect(approval.status).toBe('running');
      stall.answerAll();
    });
  },
  {
    INTERIM_RUN_WORKER: 'true',
    INTERIM_WORKER_INTERVAL_MS: '100',
    INTERIM_EXPIRY_INTERVAL_MS: '100',
    INTERIM_DELIVERY_INTERVAL_MS: '100',
    INTERIM_OUTBOUND_TIMEOUT_MS: '60000',
    INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true',
  },
);

describeEachDialect(
  'the dispatcher and the due-work tasks',
  (server, dialect) => {
    let s: AccessSetup;
    beforeAll(async () => {
      s = await setUpAccess(server());
    });
    afterEach(() => {
      vi.useRealTimers();
      stall.stall();
    });

    const deliveriesOf = (requestIds: string[], channel: DeliveryChannel) =>
      server().app.core.db.selectFrom('deliveries').selectAll().where('request_id', 'in', requestIds).where('channel', '=', channel).execute();

    it('claims no more script deliveries than the sandbox can start, so none waits in a queue under a lease', async () => {
      stall.stall();
      const templateId = await s.template();
      const script = await server().admin.post('/api/v1/scripts', {
        name: 'slow external call',
        source: `await http.fetch('${stall.url}/script-${dialect}', { method: 'POST', body: config.get('request_id') });`,
        allowed_hosts: ['127.0.0.1'],
      });
      expect(script.status, JSON.stringify(script.body)).toBe(201);
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'script',
        event_types: ['access_request.submitted'],
        template_id: templateId,
        kind: 'script',
        config: { script_id: script.body.id },
      });
      expect(action.status).toBe(201);
      const ids = await Promise.all(
        [s.requester, s.outsider, s.escalationMember].map(async (p) => (await p.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string),
      );
      const dispatcher = server().app.services.dispatcher;
      const first = dispatcher.deliverDue();
      await eventually('the first script to call out', () => stall.paths.filter((p) => p === `/script-${dialect}`).length === 1, 15_000);
      // One sandbox worker: one script delivery claimed and running, the others still pending, unleased.
      const during = await deliveriesOf(ids, 'script');
      expect(during.filter((d) => d.status === 'running')).toHaveLength(1);
      expect(during.filter((d) => d.status === 'pending' && d.lease_until === null)).toHaveLength(2);
      // Another pass meanwhile (another loop, another instance's share) finds no room either.
      expect(await dispatcher.deliverDue()).toBe(0);

      stall.answerAll();
      await first;
      await server().app.runWorkerOnce();
      const after = await deliveriesOf(ids, 'script');
      expect(after.map((d) => [d.status, d.attempts])).toEqual([
        ['succeeded', 1],
        ['succeeded', 1],
        ['succeeded', 1],
      ]);
      expect(stall.paths.filter((p) => p === `/script-${dialect}`)).toHaveLength(3);
    });

    it('renews the lease of an attempt still in flight, so another worker never takes it over', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const templateId = await s.template();
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'hook',
        event_types: ['access_request.submitted'],
        template_id: templateId,
        kind: 'webhook',
        config: { url: `${stall.url}/unused` },
      });
      expect(action.status).toBe(201);
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));

      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const calls: string[] = [];
      const slow: Performer = async (delivery) => {
        calls.push(delivery.id);
        await gate;
        return { ok: true };
      };
      const lease = 1000;
      const dispatcherFor = () =>
        createDispatcher(server().app.core, {
          performers: { email: slow, webhook: slow, slack: slow, script: slow, trigger: slow, backchannel_logout: slow, ssf: slow },
          onDeadLetter: async () => undefined,
          leaseMs: { email: lease, webhook: lease, slack: lease, script: lease, trigger: lease, backchannel_logout: lease, ssf: lease },
          renewEveryMs: 20,
          concurrency: 50,
          scriptCapacity: () => 0,
          scriptWorkers: 1,
          maxAttempts: 3,
          backoff: { baseMs: 1000, capMs: 1000 },
        });
      const [one, other] = [dispatcherFor(), dispatcherFor()];
      const pass = one.deliverDue();
      await eventually('the webhook attempt to start', async () => (await deliveriesOf([body.id], 'webhook')).some((d) => calls.includes(d.id)));

      // Far past the first lease; the attempt is still running, so its lease was renewed.
      vi.setSystemTime(Date.now() + 60 * lease);
      await eventually('the lease to be renewed', async () => (await deliveriesOf([body.id], 'webhook'))[0]!.lease_until! > Date.now());
      expect(await other.deliverDue()).toBe(0);

      release();
      await pass;
      const [hook] = await deliveriesOf([body.id], 'webhook');
      expect(hook).toMatchObject({ status: 'succeeded', attempts: 1, lease_until: null });
      expect(calls.filter((id) => id === hook!.id)).toHaveLength(1);
    });

    it('keeps delivering past a slow receiver: it holds one slot, not a whole batch', async () => {
      const templateId = await s.template();
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'hook',
        event_types: ['access_request.submitted'],
        template_id: templateId,
        kind: 'webhook',
        config: { url: `${stall.url}/unused` },
      });
      expect(action.status).toBe(201);
      const ids = await Promise.all(
        [s.requester, s.outsider, s.escalationMember, s.secondApprover].map(async (p) => (await p.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string),
      );
      const [slowId] = (await deliveriesOf([ids[0]!], 'webhook')).map((d) => d.id);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const performer: Performer = async (delivery) => {
        if (delivery.id === slowId) await gate;
        return { ok: true };
      };
      const dispatcher = createDispatcher(server().app.core, {
        performers: { email: performer, webhook: performer, slack: performer, script: performer, trigger: performer, backchannel_logout: performer, ssf: performer },
        onDeadLetter: async () => undefined,
        leaseMs: { email: 30_000, webhook: 30_000, slack: 30_000, script: 30_000, trigger: 30_000, backchannel_logout: 30_000, ssf: 30_000 },
        renewEveryMs: 10_000,
        concurrency: 2,
        scriptCapacity: () => 0,
        scriptWorkers: 1,
        maxAttempts: 3,
        backoff: { baseMs: 1000, capMs: 1000 },
      });
      const run = dispatcher.deliverWhileDue({ spent: () => false });
      // With two slots and one held by the slow receiver, everything else still goes out.
      const webhooks = () => deliveriesOf(ids, 'webhook');
      try {
        await eventually('the other webhooks to succeed while the slow one runs', async () => {
          const rows = await webhooks();
          return rows.filter((d) => d.status === 'succeeded').length === ids.length - 1 && rows.find((d) => d.id === slowId)!.status === 'running';
        });
      } finally {
        release();
      }
      expect(await run).toBeGreaterThanOrEqual(ids.length);
      expect((await webhooks()).every((d) => d.status === 'succeeded')).toBe(true);
    });

    it('fails a run whose outcome cannot be recorded only after the other attempts settle, with nothing left unheard', async () => {
      const templateId = await s.template();
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'record fails',
        event_types: ['access_request.submitted'],
        template_id: templateId,
        kind: 'webhook',
        config: { url: `${stall.url}/unused` },
      });
      expect(action.status).toBe(201);
      const ids = await Promise.all(
        [s.requester, s.outsider].map(async (p) => (await p.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string),
      );
      const [failingId, slowId] = (await deliveriesOf(ids, 'webhook')).map((d) => d.id);
      // The database "goes away" for the first attempt's record: the first thing it reads, the clock, throws once.
      const { core } = server().app;
      let armed = false;
      let thrown = false;
      const clock = {
        ...core.clock,
        now: () => {
          if (armed) {
            armed = false;
            thrown = true;
            throw new Error('database went away');
          }
          return core.clock.now();
        },
      };
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let slowStarted!: () => void;
      const slowInFlight = new Promise<void>((resolve) => (slowStarted = resolve));
      const settled: string[] = [];
      const performer: Performer = async (delivery) => {
        if (delivery.id === failingId) {
          await slowInFlight;
          armed = true;
        }
        if (delivery.id === slowId) {
          slowStarted();
          await gate;
          settled.push(delivery.id);
        }
        return { ok: true };
      };
      const unheard: unknown[] = [];
      const listen = (reason: unknown) => unheard.push(reason);
      process.on('unhandledRejection', listen);
      try {
        const dispatcher = createDispatcher({ ...core, clock }, {
          performers: { email: performer, webhook: performer, slack: performer, script: performer, trigger: performer, backchannel_logout: performer, ssf: performer },
          onDeadLetter: async () => undefined,
          leaseMs: deliveryLeases(server().config),
          renewEveryMs: 10_000,
          // Room for everything due at once (the requests' notices too), so both webhooks are in flight together.
          concurrency: 50,
          scriptCapacity: () => 0,
          scriptWorkers: 1,
          maxAttempts: 3,
          backoff: { baseMs: 1000, capMs: 1000 },
        });
        const run = dispatcher.deliverWhileDue({ spent: () => false });
        const outcome = run.then(() => 'resolved', (error: Error) => error.message);
        await eventually('the first outcome to fail to be recorded', () => thrown);
        release();
        expect(await outcome).toBe('database went away');
        expect(settled).toEqual([slowId]);
        await new Promise((resolve) => setImmediate(resolve));
        expect(unheard).toEqual([]);
      } finally {
        process.off('unhandledRejection', listen);
        release();
      }
    });

    it('claims what tells applications that access ended before notices queued earlier', async () => {
      const templateId = await s.template();
      const action = await server().admin.post('/api/v1/event-actions', {
        name: 'queued first',
        event_types: ['access_request.submitted'],
        template_id: templateId,
        kind: 'webhook',
        config: { url: `${stall.url}/unused` },
      });
      expect(action.status).toBe(201);
      const requestId = (await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string;
      const { core } = server().app;
      const signal: SignalPayload = {
        id: newId(core.clock),
        type: 'signal.sessions_ended',
        occurred_at: new Date(core.clock.now()).toISOString(),
        subject: { user_id: s.outsider.id, email: s.outsider.email },
        reason: 'Signed out',
        initiator: 'user',
        app_id: null,
        claims: null,
        grant_ended: false,
        sessions: [],
      };
      await core.db.transaction().execute(async (trx) => {
        await insertSignalEvents(trx, [signal]);
        await createDeliveriesRepo(trx).enqueueMany(core.clock, [{ event: { id: signal.id, request: null }, deliveries: [{ channel: 'ssf', target: 'ssf:queued-last', orderingKey: 'ssf:queued-last', maxAttempts: 3 }] }]);
      });
      const attempted: string[] = [];
      const performer: Performer = async (delivery) => {
        attempted.push(delivery.channel);
        return { ok: true };
      };
      const dispatcher = createDispatcher(core, {
        performers: { email: performer, webhook: performer, slack: performer, script: performer, trigger: performer, backchannel_logout: performer, ssf: performer },
        onDeadLetter: async () => undefined,
        leaseMs: deliveryLeases(server().config),
        renewEveryMs: 10_000,
        concurrency: 1,
        scriptCapacity: () => 0,
        scriptWorkers: 1,
        maxAttempts: 3,
        backoff: { baseMs: 1000, capMs: 1000 },
      });
      expect(await dispatcher.deliverDue()).toBe(1);
      expect(attempted).toEqual(['ssf']);
      await dispatcher.deliverWhileDue({ spent: () => false });
      expect((await deliveriesOf([requestId], 'webhook')).map((d) => d.status)).toEqual(['succeeded']);
    });

    it('gives each channel a lease of its own time limit plus a margin, all settings', () => {
      const defaults = loadConfig({ INTERIM_MASTER_KEY: randomBytes(32).toString('base64') });
      expect(deliveryLeases(defaults)).toEqual({ webhook: 25_000, slack: 25_000, backchannel_logout: 25_000, ssf: 25_000, email: 30_000, script: 25_000, trigger: 25_000 });
      expect(defaults.delivery).toEqual({ concurrency: 20, maxAttempts: 12, retryBaseMs: 30_000, retryMaxMs: 3_600_000, leaseMarginMs: 15_000 });
      const tuned = loadConfig({
        INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
        INTERIM_OUTBOUND_TIMEOUT_MS: '2000',
        INTERIM_SCRIPT_TIMEOUT_MS: '5000',
        INTERIM_DELIVERY_LEASE_MARGIN_MS: '3000',
      });
      expect(deliveryLeases(tuned)).toMatchObject({ webhook: 5000, backchannel_logout: 5000, ssf: 5000, script: 8000, trigger: 8000 });
    });

    it('refuses bad worker and delivery settings, naming them', () => {
      const key = randomBytes(32).toString('base64');
      expect(() => loadConfig({ INTERIM_MASTER_KEY: key, INTERIM_DELIVERY_MAX_ATTEMPTS: '0' })).toThrow(ConfigError);
      expect(() => loadConfig({ INTERIM_MASTER_KEY: key, INTERIM_DELIVERY_MAX_ATTEMPTS: '0' })).toThrow(/INTERIM_DELIVERY_MAX_ATTEMPTS/);
      expect(() => loadConfig({ INTERIM_MASTER_KEY: key, INTERIM_EXPIRY_INTERVAL_MS: 'soon' })).toThrow(/INTERIM_EXPIRY_INTERVAL_MS/);
      expect(() => loadConfig({ INTERIM_MASTER_KEY: key, INTERIM_DELIVERY_LEASE_MARGIN_MS: '10' })).toThrow(/INTERIM_DELIVERY_LEASE_MARGIN_MS/);
    });

    it('retries with the configured backoff and attempt count', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template();
      await server().admin.post('/api/v1/event-actions', {
        name: 'failing',
        event_types: ['access_request.submitted'],
        template_id: templateId,
        kind: 'webhook',
        config: { url: `${failing.url}/fails` },
      });
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
      const before = Date.now();
      await server().app.runWorkerOnce();
      const [first] = await deliveriesOf([body.id], 'webhook');
      expect(first).toMatchObject({ status: 'pending', attempts: 1, max_attempts: 2 });
      // INTERIM_DELIVERY_RETRY_BASE_MS=4000: the first retry waits 2-4 s (jitter), not 15-30 s.
      expect(first!.next_attempt_at - before).toBeGreaterThanOrEqual(2000);
      expect(first!.next_attempt_at - Date.now()).toBeLessThanOrEqual(4000);
      vi.setSystemTime(first!.next_attempt_at + 1);
      await server().app.runWorkerOnce();
      const [second] = await deliveriesOf([body.id], 'webhook');
      expect(second).toMatchObject({ status: 'dead', attempts: 2, max_attempts: 2 });
    });

    it('dead-letters email at once with smtp_not_configured when no SMTP server is set', async () => {
      const templateId = await s.template();
      const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
      await server().app.runWorkerOnce();
      const emails = await deliveriesOf([body.id], 'email');
      expect(emails.length).toBeGreaterThan(0);
      for (const email of emails) {
        expect(email).toMatchObject({ status: 'dead', attempts: 1 });
        expect(email.last_error).toMatch(/^smtp_not_configured/);
      }
      const audited = await server()
        .app.core.db.selectFrom('audit_events')
        .select('target_id')
        .where('action', '=', 'delivery.dead_lettered')
        .where('request_id', '=', body.id)
        .execute();
      expect(audited.map((a) => a.target_id).sort()).toEqual(emails.map((e) => e.id).sort());

      // The requester's "your access expired" email gives up too, but a notice undoes
      // nothing elsewhere: no "undoing access failed" alert for the admins.
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      vi.setSystemTime(Date.parse(approved.body.expires_at) + 1);
      await server().app.runWorkerOnce();
      const expiredEmails = await server()
        .app.core.db.selectFrom('deliveries as d')
        .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
        .select(['d.status', 'd.attempts'])
        .where('d.request_id', '=', body.id)
        .where('d.channel', '=', 'email')
        .where('e.type', '=', 'access_request.expired')
        .execute();
      expect(expiredEmails).toEqual([{ status: 'dead', attempts: 1 }]);
      const alerts = await s.admin.client.get('/api/v1/notifications');
      expect(alerts.status).toBe(200);
      expect(alerts.body.items.some((n: { kind: string; request_id: string }) => n.kind === 'delivery.dead_lettered' && n.request_id === body.id)).toBe(false);
    });

    it('escalates while an admin holds the template row: the claim locks request rows only', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template();
      const { body } = await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId));
      vi.setSystemTime(Date.now() + 16 * 60_000);
      const core = server().app.core;
      const escalatedFlag = async () => (await core.db.selectFrom('access_requests').select('escalated').where('id', '=', body.id).executeTakeFirstOrThrow()).escalated;
      if (dialect === 'postgres') {
        // A second pool, as another server would have: its open transaction holds the template row.
        const other = openDatabase(server().config.database);
        try {
          await other.db.transaction().execute(async (trx) => {
            await trx.updateTable('access_request_templates').set({ description: 'edited while escalation runs' }).where('id', '=', templateId).execute();
            const result = await Promise.race([escalateOverdueRequests(core), new Promise<string>((resolve) => setTimeout(() => resolve('blocked'), 5000))]);
            expect(result).not.toBe('blocked');
            // Escalated inside the other transaction's lifetime: not skipped because its template row was held.
            expect(await escalatedFlag()).toBe(1);
          });
        } finally {
          await other.close();
        }
      } else {
        // SQLite has one writer at a time; the same order, one after the other.
        await core.db.updateTable('access_request_templates').set({ description: 'edited before escalation' }).where('id', '=', templateId).execute();
        expect(await escalateOverdueRequests(core)).toBeGreaterThanOrEqual(1);
      }
      expect(await escalatedFlag()).toBe(1);
      // And the template edit went through.
      const template = await core.db.selectFrom('access_request_templates').select('description').where('id', '=', templateId).executeTakeFirstOrThrow();
      expect(template.description).toMatch(/^edited/);
    });

    it('purges expired sessions, OIDC artefacts and sign-in counts in bounded chunks', async () => {
      const core = server().app.core;
      const now = core.clock.now();
      const owner = s.requester.id;
      await core.db
        .insertInto('oidc_payloads')
        .values(
          Array.from({ length: 25 }, (_, i) => ({
            model: 'AccessToken',
            id: `purge-${dialect}-${i}`,
            payload: '{}',
            grant_id: null,
            user_code: null,
            uid: null,
            account_id: null,
            expires_at: i < 23 ? now - 1000 : now + 60_000,
            consumed_at: null,
          })),
        )
        .execute();
      await core.db
        .insertInto('sessions')
        .values(
          Array.from({ length: 12 }, (_, i) => ({ id: `purge-${dialect}-${i}`, user_id: owner, csrf_token: 'x', created_at: now - 5000, last_seen_at: now - 5000, expires_at: now - 1000 })),
        )
        .execute();
      // Sign-in counts: 14 whose window ended long ago, one still counting.
      const window = 15 * 60_000;
      await core.db
        .insertInto('login_throttle')
        .values(Array.from({ length: 15 }, (_, i) => ({ key: `account:purge-${dialect}-${i}@example.test`, failures: 3, window_start: i < 14 ? now - 2 * window : now - 1000 })))
        .execute();
      const left = async () => ({
        oidc: (await core.db.selectFrom('oidc_payloads').select('id').where('id', 'like', `purge-${dialect}-%`).execute()).length,
        sessions: (await core.db.selectFrom('sessions').select('id').where('id', 'like', `purge-${dialect}-%`).execute()).length,
        throttle: (await core.db.selectFrom('login_throttle').select('key').where('key', 'like', `account:purge-${dialect}-%`).execute()).length,
      });
      // A run whose budget is spent after its first chunk deletes one chunk and stops.
      expect(await purgeExpiredState(core, { throttleWindowMs: window, chunk: 10, budget: { spent: () => true } })).toBe(10);
      expect(await left()).toEqual({ oidc: 15, sessions: 12, throttle: 15 });
      // An unbounded run goes chunk by chunk until nothing expired is left, and keeps the live rows.
      expect(await purgeExpiredState(core, { throttleWindowMs: window, chunk: 10 })).toBeGreaterThanOrEqual(13 + 12 + 14);
      expect(await left()).toEqual({ oidc: 2, sessions: 0, throttle: 1 });
    });
  },
  {
    INTERIM_SCRIPT_WORKERS: '1',
    INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true',
    INTERIM_DELIVERY_MAX_ATTEMPTS: '2',
    INTERIM_DELIVERY_RETRY_BASE_MS: '4000',
    INTERIM_DELIVERY_RETRY_MAX_MS: '4000',
  },
);

describe('worker schedule settings', () => {
  it('defaults expiry and delivery to every second, separately from the other due work', () => {
    const config = loadConfig({ INTERIM_MASTER_KEY: randomBytes(32).toString('base64') });
    expect(config.worker).toEqual({ expiryIntervalMs: 1000, deliveryIntervalMs: 1000 });
    expect(config.workerIntervalMs).toBe(5000);
  });
});
