import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createCore } from '../src/core.ts';
import { openDatabase } from '../src/db/database.ts';
import { lapseOverdueRequests } from '../src/modules/requests/lapse.ts';
import { createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const MINUTE = 60_000;

/** Issue 12 §4: a pending request nobody decided within the template's pending_ttl_mins ends as `lapsed`. */
describeEachDialect('pending requests that lapse', (server, dialect) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const events = async (id: string, action: string) =>
    (await server().app.core.db.selectFrom('audit_events').select('seq').where('request_id', '=', id).where('action', '=', action).execute()).length;
  const grantGroups = async (id: string) => (await server().app.core.db.selectFrom('groups').select('id').where('name', '=', `__access_req_${id}`).execute()).length;
  const lapsingTemplate = (ttl: number, extra: Record<string, unknown> = {}) => s.template({ escalation_after_mins: null, escalation_group_id: null, pending_ttl_mins: ttl, ...extra });

  it('validates pending_ttl_mins: escalation must come before the lapse, and it is within bounds', async () => {
    const body = { name: 'lapse-rules', app_id: s.appId, mapping_ids: [s.mappingId], allowed_durations: [60], approver_group_ids: [s.approverGroupId] };
    const post = (extra: Record<string, unknown>) => server().admin.post('/api/v1/access-request-templates', { ...body, ...extra });
    for (const bad of [
      { pending_ttl_mins: 15, escalation_after_mins: 15, escalation_group_id: s.escalationGroupId },
      { pending_ttl_mins: 10, escalation_after_mins: 30, escalation_group_id: s.escalationGroupId },
      { pending_ttl_mins: 0 },
      { pending_ttl_mins: 43_201 },
      { pending_ttl_mins: 1.5 },
    ]) {
      const res = await post(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('pending_ttl_mins');
    }
    const ok = await post({ pending_ttl_mins: 60, escalation_after_mins: 15, escalation_group_id: s.escalationGroupId });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ pending_ttl_mins: 60, escalation_after_mins: 15 });
    // A PATCH that would put the lapse before the escalation is refused as a whole.
    const patched = await server().admin.patch(`/api/v1/access-request-templates/${ok.body.id}`, { escalation_after_mins: 90 });
    expect(patched.status).toBe(400);
    expect((await server().admin.patch(`/api/v1/access-request-templates/${ok.body.id}`, { pending_ttl_mins: null })).body.pending_ttl_mins).toBeNull();
    // Only admins set it.
    expect((await s.approver.client.patch(`/api/v1/access-request-templates/${ok.body.id}`, { pending_ttl_mins: 30 })).status).toBe(403);
  });

  it('lapses a request nobody decided in time, once, tells the requester, frees the slot and refuses decisions afterwards', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const templateId = await lapsingTemplate(120);
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const id = submitted.body.id as string;
    expect(Date.parse(submitted.body.lapses_at) - Date.parse(submitted.body.created_at)).toBe(120 * MINUTE);

    vi.setSystemTime(Date.now() + 119 * MINUTE);
    await server().app.runWorkerOnce();
    expect((await s.requester.client.get(`/api/v1/access-requests/${id}`)).body.status).toBe('pending');

    vi.setSystemTime(Date.now() + 2 * MINUTE);
    await server().app.runWorkerOnce();
    const after = await s.requester.client.get(`/api/v1/access-requests/${id}`);
    expect(after.body).toMatchObject({ status: 'lapsed', end_reason: 'automatic', lapses_at: null, decided_by: null });
    expect(await events(id, 'access_request.lapsed')).toBe(1);
    await server().app.runWorkerOnce();
    expect(await events(id, 'access_request.lapsed')).toBe(1);

    // The requester is told in the app and by e-mail; the approvers' inboxes no longer show it.
    const notices = await s.requester.client.get('/api/v1/notifications');
    expect(notices.body.items.some((n: { kind: string; request_id: string }) => n.kind === 'access_request.lapsed' && n.request_id === id)).toBe(true);
    const mails = await server().app.core.db.selectFrom('deliveries').select('target').where('event_id', 'in', (eb) => eb.selectFrom('outbox_events').select('id').where('request_id', '=', id).where('type', '=', 'access_request.lapsed')).execute();
    expect(mails.map((m) => m.target)).toContain(`requester:${s.requester.email}`);
    const inbox = await s.approver.client.get('/api/v1/access-requests/inbox');
    expect(inbox.body.items.map((r: { id: string }) => r.id)).not.toContain(id);

    // Decisions on a lapsed request are refused; the slot is free for a new request.
    const late = await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('request_not_pending');
    expect((await s.requester.client.post(`/api/v1/access-requests/${id}/cancel`, {})).status).toBe(409);
    const again = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    // ?status=lapsed filters the requester's own list.
    const mine = await s.requester.client.get('/api/v1/access-requests?status=lapsed');
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((r: { id: string }) => r.id)).toContain(id);
  });

  it('does not lapse decided requests, nor requests of templates without pending_ttl_mins', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const lapsing = await lapsingTemplate(30);
    const forever = await s.template({ escalation_after_mins: null, escalation_group_id: null });
    const other = await createPerson(server(), 'requester-b');
    const approved = (await s.requester.client.post('/api/v1/access-requests', validRequest(lapsing))).body.id;
    expect((await s.approver.client.post(`/api/v1/access-requests/${approved}/approve`, {})).status).toBe(200);
    const waiting = (await other.client.post('/api/v1/access-requests', validRequest(forever))).body.id;
    expect((await other.client.get(`/api/v1/access-requests/${waiting}`)).body.lapses_at).toBeNull();
    vi.setSystemTime(Date.now() + 31 * MINUTE);
    expect(await lapseOverdueRequests(server().app.core)).toBe(0);
    expect((await s.requester.client.get(`/api/v1/access-requests/${approved}`)).body.status).toBe('approved');
    expect((await other.client.get(`/api/v1/access-requests/${waiting}`)).body.status).toBe('pending');
    await s.requester.client.post(`/api/v1/access-requests/${approved}/revoke`, { reason: 'done' });
    await other.client.post(`/api/v1/access-requests/${waiting}/cancel`, {});
  });

  it('escalates first, then lapses', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const templateId = await s.template({ pending_ttl_mins: 60 });
    const requester = await createPerson(server(), 'requester-esc');
    const id = (await requester.client.post('/api/v1/access-requests', validRequest(templateId))).body.id;
    vi.setSystemTime(Date.now() + 16 * MINUTE);
    await server().app.runWorkerOnce();
    expect((await requester.client.get(`/api/v1/access-requests/${id}`)).body).toMatchObject({ status: 'pending', escalated: true });
    vi.setSystemTime(Date.now() + 45 * MINUTE);
    await server().app.runWorkerOnce();
    expect((await requester.client.get(`/api/v1/access-requests/${id}`)).body.status).toBe('lapsed');
  });

  it('works through a backlog in chunks, and several workers lapse each request once', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const templateId = await lapsingTemplate(5);
    const people = await Promise.all(Array.from({ length: 7 }, (_, i) => createPerson(server(), `lapser-${i}`)));
    const ids = await Promise.all(people.map(async (p) => (await p.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string));
    vi.setSystemTime(Date.now() + 6 * MINUTE);
    // On PostgreSQL a second instance with its own pool, as when two servers share it.
    const second = dialect === 'postgres' ? openDatabase(server().config.database) : server().app.database;
    try {
      const other = createCore(second, server().app.core.clock, server().url, server().app.core.passwords);
      const results = await Promise.all([lapseOverdueRequests(server().app.core, 2), lapseOverdueRequests(other, 3), lapseOverdueRequests(server().app.core, 2)]);
      expect(results.reduce((a, b) => a + b, 0)).toBe(ids.length);
    } finally {
      if (second !== server().app.database) await second.close();
    }
    for (const id of ids) expect(await events(id, 'access_request.lapsed')).toBe(1);
  });

  it('an approval racing the lapse gives exactly one outcome', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const templateId = await lapsingTemplate(10);
    const people = await Promise.all(Array.from({ length: 6 }, (_, i) => createPerson(server(), `racer-${i}`)));
    const ids = await Promise.all(people.map(async (p) => (await p.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string));
    // Past the TTL, before any worker ran: each approval and the lapse task compete for the same rows.
    vi.setSystemTime(Date.now() + 10 * MINUTE + 1000);
    const [lapsed, ...decisions] = await Promise.all([lapseOverdueRequests(server().app.core, 2), ...ids.map((id) => s.approver.client.post(`/api/v1/access-requests/${id}/approve`, {}))]);
    let approvedCount = 0;
    for (const [i, id] of ids.entries()) {
      const decision = decisions[i]!;
      const status = (await people[i]!.client.get(`/api/v1/access-requests/${id}`)).body.status;
      const approved = await events(id, 'access_request.approved');
      const lapsedEvents = await events(id, 'access_request.lapsed');
      // Exactly one outcome per request: approved with its grant, or lapsed without one.
      expect(approved + lapsedEvents, id).toBe(1);
      if (decision.status === 200) {
        approvedCount++;
        expect(status).toBe('approved');
        expect(await grantGroups(id)).toBe(1);
      } else {
        expect(decision.status).toBe(409);
        expect(status).toBe('lapsed');
        expect(await grantGroups(id)).toBe(0);
      }
    }
    expect(lapsed).toBe(ids.length - approvedCount);
  });
});
