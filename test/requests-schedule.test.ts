import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { activateDueGrants } from '../src/modules/requests/activation.ts';
import { createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { allowResource } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty } from './helpers/oidc-rp.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const API = 'https://api.example.test';
const MIN = 60_000;
const DAY = 1440;
const iso = (ms: number) => new Date(ms).toISOString();

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

/** Tells an external system about each event it runs for. */
const PROVISIONER = `
const res = await http.fetch('${receiver.url}/provision', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event: config.get('trigger_event'), request: config.get('request_id'), starts_at: config.get('starts_at') }),
});
if (res.status >= 300) throw new Error('the external system refused: HTTP ' + res.status);
`;

/** Scheduled start (issue 12 §3): a grant's window, its `activated` event and the tokens around its start. */
describeEachDialect('access requests with a scheduled start', (server) => {
  let s: AccessSetup;
  let scheduledTemplate: string;
  beforeAll(async () => {
    s = await setUpAccess(server());
    scheduledTemplate = await s.template({ max_start_delay_mins: 14 * DAY });
  });
  afterEach(() => {
    receiver.answer(200);
    vi.useRealTimers();
  });

  const get = async (id: string) => (await s.requester.client.get(`/api/v1/access-requests/${id}`)).body;
  const lifecycle = async (id: string) =>
    ((await server().admin.get(`/api/v1/access-requests/${id}/timeline`)).body as { action: string; data: Record<string, unknown> }[]).filter((e) =>
      e.action.startsWith('access_request.'),
    );
  const auditCount = async (id: string, action: string) =>
    (await server().app.core.db.selectFrom('audit_events').select('seq').where('request_id', '=', id).where('action', '=', action).execute()).length;
  const outboxCount = async (id: string, type: string) =>
    (await server().app.core.db.selectFrom('outbox_events').select('id').where('request_id', '=', id).where('type', '=', type).execute()).length;

  /** Submits for `templateId` starting at `startsAt` and has it approved; returns the approved view. */
  async function scheduled(templateId: string, startsAt: number, requester = s.requester) {
    const submitted = await requester.client.post('/api/v1/access-requests', validRequest(templateId, { starts_at: iso(startsAt) }));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    expect(submitted.body).toMatchObject({ status: 'pending', starts_at: iso(startsAt), scheduled: false, activated_at: null });
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    return approved.body as { id: string; expires_at: string; starts_at: string; scheduled: boolean; activated_at: string | null; status: string };
  }

  it('grants nothing before the start, counts the duration from it, caps tokens at it, and announces it once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    await allowResource(server(), API, app.id);
    const config = await relyingParty(server(), app);
    const first = await codeFlow(config, new Browser(server().url), app, { email: s.requester.email, password: PASSWORD, params: { resource: API } });

    const startsAt = Math.ceil((Date.now() + 3 * 60 * MIN) / 1000) * 1000;
    const approved = await scheduled(scheduledTemplate, startsAt);
    // Approved in advance: live, not active; the hour counts from the start, not from the approval.
    expect(approved).toMatchObject({ status: 'approved', scheduled: true, activated_at: null, starts_at: iso(startsAt) });
    const expiresAt = Date.parse(approved.expires_at);
    expect(expiresAt).toBe(startsAt + 60 * MIN);
    const detail = await get(approved.id);
    expect(detail).toMatchObject({ scheduled: true, can_cancel: true, can_revoke: true });

    // Before the start: no claim on any path, and the grant group is not among the live groups.
    const before = await client.refreshTokenGrant(config, first.tokens.refresh_token!, { resource: API });
    expect(before.claims()).not.toHaveProperty('role');
    const beforeJwt = decodeJwt(before.access_token) as { role?: string; exp: number };
    expect(beforeJwt.role).toBeUndefined();
    expect(beforeJwt.exp * 1000).toBeLessThanOrEqual(startsAt);
    const beforeOpaque = await client.refreshTokenGrant(config, before.refresh_token!);
    expect(await client.fetchUserInfo(config, beforeOpaque.access_token, s.requester.id)).not.toHaveProperty('role');
    const groups = (await server().admin.get(`/api/v1/users/${s.requester.id}/groups`)).body.items.map((g: { name: string }) => g.name);
    expect(groups).not.toContain(`__access_req_${approved.id}`);
    await server().app.runWorkerOnce();
    expect((await get(approved.id)).activated_at).toBeNull();

    // Just before the start: still nothing, and the token cannot live into the window it was not issued for.
    vi.setSystemTime(startsAt - 90_000);
    const justBefore = await client.refreshTokenGrant(config, beforeOpaque.refresh_token!, { resource: API });
    const justBeforeJwt = decodeJwt(justBefore.access_token) as { role?: string; exp: number };
    expect(justBeforeJwt.role).toBeUndefined();
    expect(justBeforeJwt.exp * 1000).toBeLessThanOrEqual(startsAt);
    expect(justBeforeJwt.exp * 1000).toBeGreaterThan(startsAt - 5_000);
    // The opaque token of the same moment: capped too (ID token and access token), and active by introspection.
    const justBeforeOpaque = await client.refreshTokenGrant(config, justBefore.refresh_token!);
    expect(justBeforeOpaque.claims()).not.toHaveProperty('role');
    expect(justBeforeOpaque.claims()!.exp * 1000).toBeLessThanOrEqual(startsAt);
    expect(justBeforeOpaque.expires_in).toBeLessThanOrEqual(90);
    expect((await client.tokenIntrospection(config, justBeforeOpaque.access_token)).active).toBe(true);

    // From the start the claim is there on every path, before the worker has run.
    vi.setSystemTime(startsAt);
    const during = await client.refreshTokenGrant(config, justBeforeOpaque.refresh_token!, { resource: API });
    expect(during.claims()).toMatchObject({ role: 'prod-admin' });
    const duringJwt = decodeJwt(during.access_token) as { role: string; exp: number };
    expect(duringJwt.role).toBe('prod-admin');
    expect(duringJwt.exp * 1000).toBeLessThanOrEqual(expiresAt);
    const opaque = await client.refreshTokenGrant(config, during.refresh_token!);
    expect(await client.fetchUserInfo(config, opaque.access_token, s.requester.id)).toMatchObject({ role: 'prod-admin' });
    expect(await client.tokenIntrospection(config, opaque.access_token)).toMatchObject({ active: true, role: 'prod-admin' });

    // The worker announces the window once, however often it runs.
    vi.setSystemTime(startsAt + 5_000);
    await server().app.runWorkerOnce();
    await server().app.runWorkerOnce();
    expect(await activateDueGrants(server().app.core)).toBe(0);
    const active = await get(approved.id);
    expect(active).toMatchObject({ status: 'approved', scheduled: false, activated_at: iso(startsAt + 5_000), can_cancel: false });
    expect(await auditCount(approved.id, 'access_request.activated')).toBe(1);
    expect(await outboxCount(approved.id, 'access_request.activated')).toBe(1);

    // It ends an hour after the start.
    vi.setSystemTime(expiresAt + 1000);
    expect((await client.tokenIntrospection(config, opaque.access_token)).active).toBe(false);
    await server().app.runWorkerOnce();
    expect((await get(approved.id)).status).toBe('expired');
    const events = await lifecycle(approved.id);
    expect(events.map((e) => e.action)).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.activated', 'access_request.expired']);
    expect(events[0]!.data).toMatchObject({ starts_at: iso(startsAt) });
    expect(events[1]!.data).toMatchObject({ starts_at: iso(startsAt), scheduled: true, expires_at: iso(expiresAt) });
    expect(events[2]!.data).toMatchObject({ starts_at: iso(startsAt), scheduled: true, expires_at: iso(expiresAt) });
    expect((await verifyAuditChain(server().app.core.db)).ok).toBe(true);
  });

  it('an access that starts at approval is activated at once, in the same transaction', async () => {
    const templateId = await s.template();
    const submitted = await s.secondApprover.client.post('/api/v1/access-requests', validRequest(templateId));
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
    expect(approved.body).toMatchObject({ status: 'approved', scheduled: false, starts_at: null, activated_at: approved.body.approved_at });
    const events = await (await s.secondApprover.client.get(`/api/v1/access-requests/${submitted.body.id}/timeline`)).body;
    const actions = events.map((e: { action: string }) => e.action).filter((a: string) => a.startsWith('access_request.'));
    expect(actions).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.activated']);
    expect(events.find((e: { action: string }) => e.action === 'access_request.activated').data).toMatchObject({ scheduled: false, starts_at: approved.body.approved_at });
    // Cancelling what has started is refused with a pointer to revoke.
    const cancel = await s.secondApprover.client.post(`/api/v1/access-requests/${submitted.body.id}/cancel`, {});
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('grant_started');
  });

  it('an auto-approved scheduled request waits for its start like any other, and is told about it only then', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const onCall = (await server().admin.post('/api/v1/groups', { name: `on-call-${Date.now()}` })).body.id;
    await server().admin.request('PUT', `/api/v1/groups/${onCall}/members/${s.escalationMember.id}`, {});
    const templateId = await s.template({ auto_approve: true, requester_group_ids: [onCall], max_start_delay_mins: DAY, allowed_durations: [60] });
    const startsAt = Date.now() + 30 * MIN;
    const res = await s.escalationMember.client.post('/api/v1/access-requests', validRequest(templateId, { starts_at: iso(startsAt) }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'approved', scheduled: true, activated_at: null, expires_at: iso(startsAt + 60 * MIN) });
    // The expiring-soon notice is about an open window only; none before the start.
    vi.setSystemTime(startsAt - MIN);
    await server().app.runWorkerOnce();
    expect((await lifecycle(res.body.id)).map((e) => e.action)).toEqual(['access_request.submitted', 'access_request.approved']);
    vi.setSystemTime(startsAt + 50 * MIN);
    await server().app.runWorkerOnce();
    // Announced first, then (ten minutes before its end) the expiring-soon notice.
    expect((await lifecycle(res.body.id)).map((e) => e.action)).toEqual([
      'access_request.submitted',
      'access_request.approved',
      'access_request.activated',
      'access_request.expiring_soon',
    ]);
    const notices = (await s.escalationMember.client.get('/api/v1/notifications')).body.items as { title: string; request_id: string }[];
    expect(notices.filter((n) => n.request_id === res.body.id).map((n) => n.title)).toContain('Your access has started');
    expect((await s.escalationMember.client.post(`/api/v1/access-requests/${res.body.id}/revoke`, { reason: 'done' })).status).toBe(200);
  });

  it('approved after the requested start: the access starts at approval and lasts the whole duration', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const startsAt = Date.now() + 10 * MIN;
    const submitted = await s.outsider.client.post('/api/v1/access-requests', validRequest(scheduledTemplate, { starts_at: iso(startsAt) }));
    expect(submitted.status).toBe(201);
    vi.setSystemTime(startsAt + 30 * MIN);
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
    expect(approved.body).toMatchObject({ status: 'approved', scheduled: false, starts_at: null });
    expect(Date.parse(approved.body.expires_at)).toBe(Date.parse(approved.body.approved_at) + 60 * MIN);
    expect(approved.body.activated_at).toBe(approved.body.approved_at);
    expect((await s.outsider.client.post(`/api/v1/access-requests/${submitted.body.id}/revoke`, { reason: 'done' })).status).toBe(200);
  });

  it('the requester cancels a scheduled grant before it starts; others cannot; an approver revokes one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const templateId = await s.template({ max_start_delay_mins: DAY });
    const startsAt = Date.now() + 2 * 60 * MIN;
    const first = await scheduled(templateId, startsAt);

    // Someone else's request: invisible to an outsider (404); visible to the approver, who still may not cancel it (403).
    expect((await s.outsider.client.post(`/api/v1/access-requests/${first.id}/cancel`, {})).status).toBe(404);
    expect((await s.outsider.client.post(`/api/v1/access-requests/${first.id}/revoke`, { reason: 'mine now' })).status).toBe(404);
    expect((await s.approver.client.post(`/api/v1/access-requests/${first.id}/cancel`, {})).status).toBe(403);

    const cancelled = await s.requester.client.post(`/api/v1/access-requests/${first.id}/cancel`, {});
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', end_reason: 'manual', ended_by: { id: s.requester.id } });
    const group = await server().app.core.db.selectFrom('groups').select('id').where('name', '=', `__access_req_${first.id}`).executeTakeFirst();
    expect(group).toBeUndefined();
    // Cancelled twice: the request is no longer approved.
    expect((await s.requester.client.post(`/api/v1/access-requests/${first.id}/cancel`, {})).status).toBe(409);

    // The slot is free again: a new request, this time revoked by an approver before its start.
    const second = await scheduled(templateId, startsAt);
    const revoked = await s.approver.client.post(`/api/v1/access-requests/${second.id}/revoke`, { reason: 'change freeze' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revoke_reason: 'change freeze' });

    // At the start, neither is activated, and neither ever grants anything.
    vi.setSystemTime(startsAt + 1000);
    await server().app.runWorkerOnce();
    for (const id of [first.id, second.id]) {
      expect(await auditCount(id, 'access_request.activated')).toBe(0);
      expect((await get(id)).activated_at).toBeNull();
    }
    expect((await lifecycle(first.id)).map((e) => e.action)).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.cancelled']);
    expect((await lifecycle(second.id)).map((e) => e.action)).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.revoked']);

    // Once the start has passed, even before the worker announces it, withdrawing is a revoke.
    const third = await scheduled(templateId, Date.now() + 10 * MIN);
    vi.setSystemTime(Date.now() + 11 * MIN);
    const late = await s.requester.client.post(`/api/v1/access-requests/${third.id}/cancel`, {});
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'grant_started' });
    expect((await s.requester.client.post(`/api/v1/access-requests/${third.id}/revoke`, { reason: 'not needed' })).status).toBe(200);
  });

  it('refuses bad starts with a clear message for each', async () => {
    const now = Date.now();
    const someone = await createPerson(server(), 'scheduler');
    const submit = (templateId: string, startsAt: string) => someone.client.post('/api/v1/access-requests', validRequest(templateId, { starts_at: startsAt }));
    const refusal = async (templateId: string, startsAt: string) => {
      const res = await submit(templateId, startsAt);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      return (res.body.errors as { field: string; message: string }[]).find((e) => e.field === 'starts_at')?.message;
    };
    expect(await refusal(scheduledTemplate, iso(now - MIN))).toBe('must be in the future');
    expect(await refusal(scheduledTemplate, iso(now + 15 * DAY * MIN))).toBe('must be at most 20160 minutes (14 days) from now');
    expect(await refusal(s.templateId, iso(now + 60 * MIN))).toContain('does not allow a scheduled start');
    const garbled = await submit(scheduledTemplate, 'tomorrow at ten');
    expect(garbled.status).toBe(400);
    expect(JSON.stringify(garbled.body)).toContain('starts_at');
    // Nothing was created by any of them.
    expect((await someone.client.get('/api/v1/access-requests')).body.items).toEqual([]);
  });

  it('a template cannot both block on its trigger task and allow a scheduled start', async () => {
    const script = await server().admin.post('/api/v1/scripts', { name: `provisioner-${Date.now()}`, source: PROVISIONER, allowed_hosts: ['127.0.0.1'] });
    expect(script.status, JSON.stringify(script.body)).toBe(201);
    const block = { script_id: script.body.id, failure_mode: 'block', max_retries: 0 };
    const created = await server().admin.post('/api/v1/access-request-templates', {
      name: `blocking-${Date.now()}`,
      app_id: s.appId,
      mapping_ids: [s.mappingId],
      allowed_durations: [60],
      approver_group_ids: [s.approverGroupId],
      trigger: block,
      max_start_delay_mins: 60,
    });
    expect(created.status).toBe(400);
    expect(created.body.code).toBe('block_mode_schedule');
    // The same through PATCH, from either side.
    const blocking = await s.template({ trigger: block });
    const patched = await server().admin.patch(`/api/v1/access-request-templates/${blocking}`, { max_start_delay_mins: 60 });
    expect(patched.status).toBe(400);
    expect(patched.body.code).toBe('block_mode_schedule');
    const toBlock = await server().admin.patch(`/api/v1/access-request-templates/${scheduledTemplate}`, { trigger: block });
    expect(toBlock.status).toBe(400);
    expect(toBlock.body.code).toBe('block_mode_schedule');
    // Zero means no scheduled start, which a blocking template may say; the limit itself is bounded.
    expect((await server().admin.patch(`/api/v1/access-request-templates/${blocking}`, { max_start_delay_mins: 0 })).status).toBe(200);
    const tooFar = await server().admin.patch(`/api/v1/access-request-templates/${scheduledTemplate}`, { max_start_delay_mins: 43_201 });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.errors).toEqual([expect.objectContaining({ field: 'max_start_delay_mins' })]);
    // Only admins set it.
    expect((await s.requester.client.patch(`/api/v1/access-request-templates/${scheduledTemplate}`, { max_start_delay_mins: 60 })).status).toBe(403);
    // The requester sees the limit on the form.
    const requestable = (await s.requester.client.get('/api/v1/access-request-templates/requestable?limit=200')).body.items as { id: string; max_start_delay_mins: number | null }[];
    expect(requestable.find((t) => t.id === scheduledTemplate)?.max_start_delay_mins).toBe(14 * DAY);
  });

  it('trigger tasks see activated at the start; a revocation waits for it to be delivered', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const script = await server().admin.post('/api/v1/scripts', { name: `provisioner-${Date.now()}`, source: PROVISIONER, allowed_hosts: ['127.0.0.1'] });
    expect(script.status, JSON.stringify(script.body)).toBe(201);
    const templateId = await s.template({ max_start_delay_mins: DAY, trigger: { script_id: script.body.id, failure_mode: 'retry', max_retries: 3 } });
    const calls = (id: string) => receiver.requests.filter((r) => r.path === '/provision' && JSON.parse(r.body).request === id).map((r) => JSON.parse(r.body) as { event: string; starts_at: string });
    const settle = async (id: string, n: number) => {
      for (let pass = 0; pass < 50 && calls(id).length < n; pass++) {
        await server().app.runWorkerOnce();
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const startsAt = Math.ceil((Date.now() + 60 * MIN) / 1000) * 1000;
    const approved = await scheduled(templateId, startsAt, s.secondApprover);
    await settle(approved.id, 2);
    expect(calls(approved.id).map((c) => c.event)).toEqual(['submitted', 'approved']);
    expect(calls(approved.id)[1]!.starts_at).toBe(iso(startsAt));

    // At the start the external system is down: `activated` fails and waits for a retry…
    receiver.answer(500);
    vi.setSystemTime(startsAt + 1000);
    await settle(approved.id, 3);
    expect(calls(approved.id).map((c) => c.event)).toEqual(['submitted', 'approved', 'activated']);
    // …and the revocation queues behind it instead of overtaking it.
    expect((await s.approver.client.post(`/api/v1/access-requests/${approved.id}/revoke`, { reason: 'over' })).status).toBe(200);
    await server().app.runWorkerOnce();
    expect(calls(approved.id).map((c) => c.event)).not.toContain('revoked');

    receiver.answer(200);
    vi.setSystemTime(Date.now() + 10 * MIN);
    await settle(approved.id, 5);
    expect(calls(approved.id).map((c) => c.event)).toEqual(['submitted', 'approved', 'activated', 'activated', 'revoked']);
  });

  it('two workers activating at once announce each grant exactly once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const startsAt = Date.now() + 30 * MIN;
    const people = [s.requester, s.secondApprover, s.outsider, s.escalationMember, s.admin];
    const templateId = await s.template({ max_start_delay_mins: DAY, approver_group_ids: [s.approverGroupId] });
    const ids: string[] = [];
    for (const person of people) {
      const submitted = await person.client.post('/api/v1/access-requests', validRequest(templateId, { starts_at: iso(startsAt) }));
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      // The approver cannot decide their own; the second approver decides that one.
      const decider = person.id === s.secondApprover.id ? s.approver : person.id === s.approver.id ? s.secondApprover : s.approver;
      expect((await decider.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {})).status).toBe(200);
      ids.push(submitted.body.id);
    }
    vi.setSystemTime(startsAt);
    // Small chunks, so the two runs interleave their claims (SKIP LOCKED on PostgreSQL).
    const done = await Promise.all([activateDueGrants(server().app.core, 2), activateDueGrants(server().app.core, 2), activateDueGrants(server().app.core, 3)]);
    expect(done.reduce((a, b) => a + b, 0)).toBe(ids.length);
    for (const id of ids) {
      expect(await auditCount(id, 'access_request.activated')).toBe(1);
      expect(await outboxCount(id, 'access_request.activated')).toBe(1);
    }
    expect((await verifyAuditChain(server().app.core.db)).ok).toBe(true);
  });
}, { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SCRIPT_TIMEOUT_MS: '3000' });
