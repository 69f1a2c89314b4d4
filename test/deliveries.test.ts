import { expect, it } from 'vitest';
import type { DeliveryChannel, DeliveryStatus, RequestStatus } from '../src/db/schema.ts';
import type { RequestEventName } from '../src/modules/event-payload/event-payload.types.ts';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import type { TestServer } from './helpers/server.ts';
import { templateFixtures } from './helpers/template-fixtures.ts';

const UNKNOWN_ID = '0190a0a0-0000-7000-8000-000000000000';
const SLACK_URL = 'https://hooks.slack.com/services/T0000/B0000/s3cr3tT0k3nXyZ';

/**
 * The dispatcher that writes deliveries lands separately, so these tests write the
 * outbox, delivery and attempt rows straight into the real database.
 */
function rows(server: () => TestServer) {
  const core = () => server().app.core;
  let tick = 0;
  // Distinct, increasing instants, so newest-first order is well defined: ids are
  // UUIDv7, ordered by their millisecond and only randomly within one.
  const at = () => core().clock.now() + ++tick;
  const idAt = (ms: number) => newId({ now: () => ms });

  return {
    event: async (type: RequestEventName = 'access_request.approved', requestId: string | null = newId(core().clock)) => {
      const occurredAt = at();
      const id = idAt(occurredAt);
      await core()
        .db.insertInto('outbox_events')
        .values({ id, type, request_id: requestId, template_id: null, payload: JSON.stringify({ id, type }), occurred_at: occurredAt })
        .execute();
      return { id, requestId };
    },

    delivery: async (
      event: { id: string; requestId: string | null },
      opts: { status?: DeliveryStatus; channel?: DeliveryChannel; target?: string; actionId?: string | null; lastError?: string | null; attempts?: number } = {},
    ) => {
      const now = at();
      const id = idAt(now);
      const status = opts.status ?? 'dead';
      const finished = status === 'dead' || status === 'succeeded';
      await core()
        .db.insertInto('deliveries')
        .values({
          id,
          event_id: event.id,
          request_id: event.requestId,
          channel: opts.channel ?? 'webhook',
          target: opts.target ?? `action:${opts.actionId ?? 'none'}`,
          action_id: opts.actionId ?? null,
          ordering_key: `${event.requestId}:${opts.target ?? 'x'}`,
          status,
          attempts: opts.attempts ?? (finished ? 5 : 1),
          max_attempts: 5,
          next_attempt_at: now,
          lease_until: status === 'running' ? now + 60_000 : null,
          last_error: opts.lastError === undefined ? (status === 'dead' ? 'HTTP 503 from receiver' : null) : opts.lastError,
          created_at: now,
          updated_at: now,
          completed_at: finished ? now : null,
        })
        .execute();
      return id;
    },

    attempt: async (deliveryId: string, opts: { ok?: boolean; status?: number | null; error?: string | null; at?: number } = {}) => {
      const when = opts.at ?? at();
      await core()
        .db.insertInto('delivery_attempts')
        .values({
          id: idAt(when),
          delivery_id: deliveryId,
          at: when,
          ok: opts.ok ? 1 : 0,
          duration_ms: 12,
          response_status: opts.status === undefined ? 503 : opts.status,
          error: opts.error === undefined ? 'HTTP 503' : opts.error,
        })
        .execute();
    },

    stored: (id: string) => core().db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
  };
}

const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((d) => d.id);

describeEachDialect('deliveries API', (server) => {
  const insert = rows(server);
  const fx = templateFixtures(server);

  it('lists deliveries newest first with the event type, and reads one', async () => {
    const { admin } = server();
    const event = await insert.event('access_request.expired');
    const older = await insert.delivery(event, { status: 'succeeded', channel: 'email', target: 'requester@example.com' });
    const newer = await insert.delivery(event, { status: 'pending', channel: 'webhook', target: 'action:x' });

    const res = await admin.get(`/api/v1/deliveries?event_id=${event.id}`);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([newer, older]);
    const first = res.body.items[1];
    expect(first).toEqual({
      id: older,
      event_id: event.id,
      event_type: 'access_request.expired',
      request_id: event.requestId,
      channel: 'email',
      target: 'requester@example.com',
      action_id: null,
      status: 'succeeded',
      attempts: 5,
      max_attempts: 5,
      next_attempt_at: expect.any(String),
      last_error: null,
      created_at: expect.any(String),
      completed_at: expect.any(String),
      recent_attempts: [],
    });
    expect((await admin.get(`/api/v1/deliveries/${older}`)).body).toEqual(first);
    expect((await admin.get(`/api/v1/deliveries/${UNKNOWN_ID}`)).status).toBe(404);
  });

  it('shows the latest 20 attempts of each delivery, newest first', async () => {
    const { admin } = server();
    const event = await insert.event();
    const busy = await insert.delivery(event);
    const quiet = await insert.delivery(event, { status: 'succeeded' });
    const base = server().app.core.clock.now();
    for (let i = 0; i < 25; i++) await insert.attempt(busy, { at: base + i * 1000, error: `try ${i}` });
    await insert.attempt(quiet, { ok: true, status: 204, error: null, at: base });

    const listed = await admin.get(`/api/v1/deliveries?event_id=${event.id}`);
    const byId = new Map(listed.body.items.map((d: { id: string }) => [d.id, d]));
    const busyOut = byId.get(busy) as { recent_attempts: { at: string; error: string; ok: boolean; response_status: number; duration_ms: number }[] };
    expect(busyOut.recent_attempts).toHaveLength(20);
    expect(busyOut.recent_attempts.map((a) => a.error)).toEqual(Array.from({ length: 20 }, (_, i) => `try ${24 - i}`));
    expect(busyOut.recent_attempts[0]).toEqual({ at: new Date(base + 24_000).toISOString(), ok: false, duration_ms: 12, response_status: 503, error: 'try 24' });
    expect((byId.get(quiet) as { recent_attempts: unknown[] }).recent_attempts).toEqual([{ at: new Date(base).toISOString(), ok: true, duration_ms: 12, response_status: 204, error: null }]);
    expect((await admin.get(`/api/v1/deliveries/${busy}`)).body.recent_attempts).toEqual(busyOut.recent_attempts);
  });

  it('filters by request, action, status, channel and event, and pages with a cursor', async () => {
    const { admin } = server();
    const requestId = newId(server().app.core.clock);
    const actionId = newId(server().app.core.clock);
    const submitted = await insert.event('access_request.submitted', requestId);
    const approved = await insert.event('access_request.approved', requestId);
    const made = [
      await insert.delivery(submitted, { channel: 'email', target: 'approver@example.com', status: 'succeeded' }),
      await insert.delivery(submitted, { channel: 'webhook', actionId, status: 'dead' }),
      await insert.delivery(approved, { channel: 'webhook', actionId, status: 'pending' }),
      await insert.delivery(approved, { channel: 'script', target: 'trigger:s', status: 'running' }),
      await insert.delivery(approved, { channel: 'slack', actionId: newId(server().app.core.clock), status: 'succeeded' }),
    ];
    const newestFirst = [...made].reverse();
    const list = (query: string) => admin.get(`/api/v1/deliveries?request_id=${requestId}${query}`);

    expect(ids(await list(''))).toEqual(newestFirst);
    expect(ids(await list(`&action_id=${actionId}`))).toEqual([made[2], made[1]]);
    expect(ids(await list('&status=succeeded'))).toEqual([made[4], made[0]]);
    expect(ids(await list('&channel=webhook'))).toEqual([made[2], made[1]]);
    expect(ids(await list('&channel=webhook&status=dead'))).toEqual([made[1]]);
    expect(ids(await list(`&event_id=${submitted.id}`))).toEqual([made[1], made[0]]);
    expect(ids(await admin.get(`/api/v1/deliveries?action_id=${actionId}`))).toEqual([made[2], made[1]]);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await list(`&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(...ids(page));
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual(newestFirst);

    expect((await admin.get('/api/v1/deliveries?status=lost')).status).toBe(400);
    expect((await admin.get('/api/v1/deliveries?channel=fax')).status).toBe(400);
    expect((await admin.get('/api/v1/deliveries?request_id=nope')).status).toBe(400);
  });

  it('never shows a Slack webhook URL: the target names the rule and errors keep only the origin', async () => {
    const { admin } = server();
    const actionId = newId(server().app.core.clock);
    const event = await insert.event();
    const id = await insert.delivery(event, { channel: 'slack', target: SLACK_URL, actionId, lastError: `POST ${SLACK_URL} failed: 404 no_service` });
    await insert.attempt(id, { error: `fetch ${SLACK_URL}?x=1 timed out` });

    const read = await admin.get(`/api/v1/deliveries/${id}`);
    expect(read.body).toMatchObject({
      target: `slack:${actionId}`,
      last_error: 'POST https://hooks.slack.com/… failed: 404 no_service',
      recent_attempts: [{ error: 'fetch https://hooks.slack.com/… timed out' }],
    });
    const listed = await admin.get(`/api/v1/deliveries?event_id=${event.id}`);
    expect(JSON.stringify(read.body) + JSON.stringify(listed.body)).not.toContain('s3cr3t');
  });

  it('retries a dead or succeeded delivery: pending, due now, a fresh attempt budget, audited', async () => {
    const { admin } = server();
    for (const status of ['dead', 'succeeded'] as const) {
      const event = await insert.event('access_request.submitted');
      const id = await insert.delivery(event, { status, attempts: 5 });
      await insert.attempt(id);
      const before = Date.now();
      const res = await admin.post(`/api/v1/deliveries/${id}/retry`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ id, status: 'pending', attempts: 0, last_error: null, completed_at: null, event_id: event.id });
      // The attempt history stays.
      expect(res.body.recent_attempts).toHaveLength(1);
      const row = await insert.stored(id);
      expect(row).toMatchObject({ status: 'pending', attempts: 0, lease_until: null, last_error: null, completed_at: null });
      expect(row.next_attempt_at).toBeGreaterThanOrEqual(before);
      expect(row.next_attempt_at).toBeLessThanOrEqual(Date.now());

      const audit = await server().app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', id).execute();
      expect(audit.map((a) => a.action)).toEqual(['delivery.retried']);
      expect(audit[0]!.request_id).toBe(event.requestId);
      expect(JSON.parse(audit[0]!.data)).toMatchObject({ previous_status: status, event_id: event.id, channel: 'webhook' });

      // Now it is on its way again: a second retry is refused.
      const again = await admin.post(`/api/v1/deliveries/${id}/retry`);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('delivery_in_progress');
    }
  });

  it('refuses to retry a pending or running delivery, or an unknown one', async () => {
    const { admin } = server();
    const event = await insert.event();
    for (const status of ['pending', 'running'] as const) {
      const id = await insert.delivery(event, { status });
      const before = await insert.stored(id);
      const res = await admin.post(`/api/v1/deliveries/${id}/retry`);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('delivery_in_progress');
      expect(await insert.stored(id)).toEqual(before);
    }
    expect((await admin.post(`/api/v1/deliveries/${UNKNOWN_ID}/retry`)).status).toBe(404);
  });

  it('refuses to resend an approval once the access it granted has ended', async () => {
    const { admin } = server();
    const { db, clock } = server().app.core;
    const template = await fx.createTemplate(await fx.appWithMapping());
    const requester = await fx.user();
    const requestWith = async (status: RequestStatus) => {
      const id = newId(clock);
      const now = clock.now();
      await db
        .insertInto('access_requests')
        .values({
          id,
          template_id: template.id,
          template_version: 1,
          requester_id: requester.id,
          status,
          duration_mins: 60,
          justification: 'test',
          fields: '{}',
          snapshot: '{}',
          notified_approver_ids: '[]',
          escalated: 0,
          escalated_at: null,
          decided_by: null,
          decided_at: now,
          decision_comment: null,
          provisioning_deadline: null,
          approved_at: now,
          expires_at: now + 3_600_000,
          grant_group_id: null,
          ended_at: status === 'approved' ? null : now,
          end_reason: status === 'approved' ? null : 'manual',
          ended_by: null,
          revoke_reason: null,
          expiring_notice_at: null,
          provisioning_error: null,
          provisioning_attempt: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      return id;
    };

    const revoked = await requestWith('revoked');
    const approval = await insert.delivery(await insert.event('access_request.approved', revoked));
    const refused = await admin.post(`/api/v1/deliveries/${approval}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('access_already_ended');
    expect((await insert.stored(approval)).status).toBe('dead');
    // The revocation itself may be resent.
    const revocation = await insert.delivery(await insert.event('access_request.revoked', revoked));
    expect((await admin.post(`/api/v1/deliveries/${revocation}/retry`)).status).toBe(200);

    const live = await requestWith('approved');
    const liveApproval = await insert.delivery(await insert.event('access_request.approved', live));
    expect((await admin.post(`/api/v1/deliveries/${liveApproval}/retry`)).status).toBe(200);
  });

  it("lists one event action's history, and 404s for an action that is gone", async () => {
    const { admin } = server();
    const action = await admin.post('/api/v1/event-actions', {
      name: 'history',
      event_types: ['access_request.approved'],
      kind: 'email',
      config: { recipients: 'requester' },
    });
    expect(action.status, JSON.stringify(action.body)).toBe(201);
    const event = await insert.event();
    const mine = [await insert.delivery(event, { actionId: action.body.id, channel: 'email', target: 'r@example.com', status: 'succeeded' })];
    mine.unshift(await insert.delivery(event, { actionId: action.body.id, channel: 'email', target: 'r@example.com', status: 'dead' }));
    await insert.delivery(event, { actionId: newId(server().app.core.clock) });

    const history = await admin.get(`/api/v1/event-actions/${action.body.id}/deliveries`);
    expect(history.status).toBe(200);
    expect(ids(history)).toEqual(mine);
    expect(ids(await admin.get(`/api/v1/event-actions/${action.body.id}/deliveries?status=dead`))).toEqual([mine[0]]);

    expect((await admin.delete(`/api/v1/event-actions/${action.body.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/event-actions/${action.body.id}/deliveries`)).status).toBe(404);
    // Its history stays reachable through the filter.
    expect(ids(await admin.get(`/api/v1/deliveries?action_id=${action.body.id}`))).toEqual(mine);
    expect((await admin.get(`/api/v1/event-actions/${UNKNOWN_ID}/deliveries`)).status).toBe(404);
  });

  it('documents its endpoints in the OpenAPI document', async () => {
    const res = await new ApiClient(server().url).get('/api/v1/openapi.json');
    const doc = typeof res.body === 'string' ? JSON.parse(res.body) : res.body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/deliveries', '/api/v1/deliveries/{id}', '/api/v1/deliveries/{id}/retry']));
    expect(doc.paths['/api/v1/deliveries'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['action_id', 'request_id', 'event_id', 'status', 'channel', 'cursor', 'limit']),
    );
  });

  it('is for admins only, and needs a caller', async () => {
    const event = await insert.event();
    const id = await insert.delivery(event);
    const { client } = await fx.user();
    const anonymous = new ApiClient(server().url);
    const calls = [
      (c: ApiClient) => c.get('/api/v1/deliveries'),
      (c: ApiClient) => c.get(`/api/v1/deliveries?request_id=${event.requestId}`),
      (c: ApiClient) => c.get(`/api/v1/deliveries/${id}`),
      (c: ApiClient) => c.post(`/api/v1/deliveries/${id}/retry`),
      (c: ApiClient) => c.get(`/api/v1/event-actions/${UNKNOWN_ID}/deliveries`),
    ];
    for (const call of calls) {
      expect((await call(client)).status).toBe(403);
      expect((await call(anonymous)).status).toBe(401);
    }
    expect((await insert.stored(id)).status).toBe('dead');
  });
});
