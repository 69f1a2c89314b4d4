import * as client from 'openid-client';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createCore } from '../src/core.ts';
import { openDatabase } from '../src/db/database.ts';
import { createBreakGlassService } from '../src/modules/requests/break-glass.ts';
import { createGroup, createPerson, PASSWORD, setUpAccess, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { assuranceOf } from './helpers/factors.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

const MINUTE = 60_000;
const BASE = '/api/v1/access-requests';

/** Issue 12 §5: break-glass self-grant, loud alerts, after-the-fact review, the review queue and the overdue reminder. */
describeEachDialect('break-glass access', (server, dialect) => {
  let s: AccessSetup;
  let responders: string;
  let templateId: string;
  const people: Person[] = [];
  /** A fresh member of the responders group (one break-glass grant at a time per user, so most tests take their own). */
  const responder = async () => {
    const p = await createPerson(server(), 'responder');
    const added = await server().admin.request('PUT', `/api/v1/groups/${responders}/members/${p.id}`, {});
    expect(added.status).toBeLessThan(300);
    people.push(p);
    return p;
  };
  const breakGlassTemplate = (extra: Record<string, unknown> = {}) =>
    s.template({
      requester_group_ids: [responders],
      break_glass: true,
      break_glass_max_mins: 60,
      break_glass_review_mins: 120,
      custom_fields: [],
      ...extra,
    });

  beforeAll(async () => {
    s = await setUpAccess(server());
    responders = await createGroup(server(), 'responders');
    templateId = await breakGlassTemplate();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const activate = (p: Person, body: Record<string, unknown> = {}) => p.client.post(`${BASE}/break-glass`, { template_id: templateId, justification: 'INC-9: primary down', ...body });
  const audit = async (id: string, action: string) =>
    server().app.core.db.selectFrom('audit_events').select(['seq', 'data']).where('request_id', '=', id).where('action', '=', action).execute();
  const deliveriesOf = async (id: string, type: string) =>
    server()
      .app.core.db.selectFrom('deliveries')
      .select(['channel', 'target'])
      .where('event_id', 'in', (eb) => eb.selectFrom('outbox_events').select('id').where('request_id', '=', id).where('type', '=', type))
      .execute();
  const noticesOf = async (id: string, type: string) =>
    (await server().app.core.db.selectFrom('notifications').select('user_id').where('request_id', '=', id).where('kind', '=', type).execute()).map((n) => n.user_id);

  it('validates the template attributes', async () => {
    const body = { name: 'bg-rules', app_id: s.appId, mapping_ids: [s.mappingId], allowed_durations: [60], approver_group_ids: [s.approverGroupId] };
    const post = (extra: Record<string, unknown>) => server().admin.post('/api/v1/access-request-templates', { ...body, ...extra });
    const fieldsOf = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((e) => e.field);
    const everyone = await post({ break_glass: true, break_glass_max_mins: 60, break_glass_review_mins: 60 });
    expect(everyone.status).toBe(400);
    expect(fieldsOf(everyone)).toContain('break_glass');
    const noDurations = await post({ break_glass: true, requester_group_ids: [responders] });
    expect(noDurations.status).toBe(400);
    expect(fieldsOf(noDurations)).toEqual(expect.arrayContaining(['break_glass_max_mins', 'break_glass_review_mins']));
    const tooLong = await post({ break_glass: true, requester_group_ids: [responders], break_glass_max_mins: 1441, break_glass_review_mins: 60 });
    expect(tooLong.status).toBe(400);
    const ok = await post({ break_glass: true, requester_group_ids: [responders], break_glass_max_mins: 30, break_glass_review_mins: 60 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ break_glass: true, break_glass_max_mins: 30, break_glass_review_mins: 60 });
    // The requester's form learns that break-glass is offered, and for how long.
    const member = await responder();
    const requestable = await member.client.get('/api/v1/access-request-templates/requestable?limit=200');
    expect(requestable.body.items.find((t: { id: string }) => t.id === ok.body.id)).toMatchObject({ break_glass: true, break_glass_max_mins: 30 });
  });

  it('grants at once, tokens carry the claims, and every admin and approver is alerted on every channel', async () => {
    const hook = await server().admin.post('/api/v1/event-actions', {
      name: 'incident hook',
      kind: 'webhook',
      template_id: templateId,
      event_types: ['access_request.denied'],
      config: { url: 'https://hooks.example.com/interim' },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const slack = await server().admin.post('/api/v1/event-actions', {
      name: 'incident slack',
      kind: 'slack',
      template_id: templateId,
      event_types: ['access_request.submitted'],
      config: { webhook_url: 'https://hooks.slack.com/services/T0000/B0000/s3cr3tT0k3nXyZ' },
    });
    expect(slack.status, JSON.stringify(slack.body)).toBe(201);

    const me = await responder();
    const res = await activate(me, { duration_mins: 30 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    expect(res.body).toMatchObject({ status: 'approved', duration_mins: 30, decided_by: { id: me.id }, justification: 'INC-9: primary down' });
    expect(res.body.break_glass).toMatchObject({ review_state: 'unreviewed', review_overdue: false, reviewed_by: null });
    expect(Date.parse(res.body.expires_at) - Date.parse(res.body.approved_at)).toBe(30 * MINUTE);
    expect(Date.parse(res.body.break_glass.review_due_at) - Date.parse(res.body.break_glass.activated_at)).toBe(120 * MINUTE);

    // The audit events are flagged.
    const activated = await audit(id, 'access_request.break_glass_activated');
    expect(activated).toHaveLength(1);
    expect(JSON.parse(String(activated[0]!.data))).toMatchObject({ break_glass: true, justification: 'INC-9: primary down' });
    const approved = await audit(id, 'access_request.approved');
    expect(JSON.parse(String(approved[0]!.data))).toMatchObject({ break_glass: true });
    expect(await audit(id, 'access_request.submitted')).toHaveLength(0);

    // Alerted: every admin (the bootstrap admin and the fixture's) and every approver, in the app and by e-mail; both loud actions too.
    const alerted = await noticesOf(id, 'access_request.break_glass_activated');
    expect(alerted).toEqual(expect.arrayContaining([s.admin.id, s.approver.id, s.secondApprover.id]));
    expect(alerted).not.toContain(me.id);
    expect(alerted).not.toContain(s.outsider.id);
    const deliveries = await deliveriesOf(id, 'access_request.break_glass_activated');
    expect(deliveries.map((d) => d.target)).toEqual(expect.arrayContaining([`approver:${s.admin.email}`, `approver:${s.approver.email}`, `approver:${s.secondApprover.email}`]));
    expect(deliveries.filter((d) => d.channel === 'webhook' || d.channel === 'slack').map((d) => d.target).sort()).toEqual([`action:${hook.body.id}`, `action:${slack.body.id}`].sort());
    const bell = await s.approver.client.get('/api/v1/notifications');
    expect(bell.body.items.find((n: { request_id: string; kind: string }) => n.request_id === id && n.kind === 'access_request.break_glass_activated')?.title).toMatch(/BREAK-GLASS/);
    await server().admin.patch(`/api/v1/event-actions/${hook.body.id}`, { enabled: false });
    await server().admin.patch(`/api/v1/event-actions/${slack.body.id}`, { enabled: false });

    // Tokens carry the claim at once.
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const rp = await relyingParty(server(), app);
    const signedIn = await codeFlow(rp, new Browser(server().url), app, { email: me.email, password: PASSWORD });
    expect(signedIn.tokens.claims()).toMatchObject({ role: 'prod-admin' });
    expect(await client.fetchUserInfo(rp, signedIn.tokens.access_token, me.id)).toMatchObject({ role: 'prod-admin' });

    // Break-glass grants cannot be extended: a second activation (or a request) while it is live is refused.
    const second = await activate(me);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'break_glass_active', existing_request_id: id });
  });

  it('refuses a missing justification, a too-long duration, bad fields, non-members, other templates and anonymous callers', async () => {
    const me = await responder();
    for (const body of [{ justification: '' }, { justification: '   ' }, { justification: undefined }, { duration_mins: 61 }, { duration_mins: 0 }, { template_id: 'nope' }, { extra: 1 }]) {
      const res = await activate(me, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const missing = await me.client.post(`${BASE}/break-glass`, { template_id: templateId });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toMatch(/justification/);
    const withFields = await breakGlassTemplate({ custom_fields: [{ key: 'ticket', label: 'Ticket', type: 'text', required: true }] });
    const noTicket = await activate(me, { template_id: withFields });
    expect(noTicket.status).toBe(400);
    expect(noTicket.body.errors.map((e: { field: string }) => e.field)).toContain('fields.ticket');
    // Not in the requester groups: 403, and nothing is granted.
    const outsider = await activate(s.outsider);
    expect(outsider.status).toBe(403);
    expect(outsider.body.code).toBe('not_a_requester');
    // An ordinary template offers no break-glass.
    const ordinary = await s.template({ requester_group_ids: [responders] });
    expect((await activate(me, { template_id: ordinary })).body.code).toBe('break_glass_not_offered');
    // Without a session.
    const anonymous = await fetch(`${server().url}${BASE}/break-glass`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ template_id: templateId, justification: 'x' }) });
    expect(anonymous.status).toBe(401);
    expect((await server().app.core.db.selectFrom('access_requests').select('id').where('requester_id', '=', s.outsider.id).execute()).length).toBe(0);
  });

  it('lets only one of two concurrent break-glass activations by one user through', async () => {
    const me = await responder();
    const otherTemplate = await breakGlassTemplate();
    const results = await Promise.all([activate(me), activate(me, { template_id: otherTemplate }), activate(me), activate(me, { template_id: otherTemplate })]);
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(['break_glass_active', 'request_already_open']).toContain(r.body.code);
    }
    const live = await server().app.core.db.selectFrom('break_glass_grants').select('request_id').where('requester_id', '=', me.id).execute();
    expect(live).toHaveLength(1);
    // On PostgreSQL, also from a second instance with its own pool: the user's row serialises them.
    if (dialect === 'postgres') {
      const another = await responder();
      const second = openDatabase(server().config.database);
      try {
        const core2 = createCore(second, server().app.core.clock, server().url, server().app.core.passwords);
        const service2 = createBreakGlassService(core2, { submissionsPerMinute: 100 }, assuranceOf(server()));
        const actor = { userId: another.id, isAdmin: false, via: 'session' as const, mustChangePassword: false };
        const outcomes = await Promise.allSettled([
          service2.activate(actor, { template_id: templateId, justification: 'x', fields: {} }),
          server().app.services.breakGlass.activate(actor, { template_id: otherTemplate, justification: 'y', fields: {} }),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { status: 409, code: 'break_glass_active' } });
      } finally {
        await second.close();
      }
    }
  });

  it('is reviewed by an approver, never by its requester; a second review is refused', async () => {
    const me = await responder();
    const id = (await activate(me)).body.id as string;
    // The requester cannot review their own, even as an approver.
    const own = await me.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'fine' });
    expect(own.status).toBe(403);
    // An outsider cannot see it; an admin may not review while approvers can, but sees it in the queue.
    expect((await s.outsider.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'fine' })).status).toBe(404);
    expect((await s.admin.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'fine' })).status).toBe(403);
    // Bad input.
    for (const body of [{ outcome: 'reviewed' }, { outcome: 'reviewed', comment: ' ' }, { outcome: 'approved', comment: 'x' }, {}]) {
      expect((await s.approver.client.post(`${BASE}/${id}/review`, body)).status, JSON.stringify(body)).toBe(400);
    }
    // The queue: admins and the template's approvers see it; the outsider and the requester do not.
    const queue = async (p: Person) => ((await p.client.get(`${BASE}/break-glass/unreviewed?limit=200`)).body.items as { id: string }[]).map((r) => r.id);
    expect(await queue(s.admin)).toContain(id);
    expect(await queue(s.approver)).toContain(id);
    expect(await queue(s.outsider)).not.toContain(id);
    expect(await queue(me)).not.toContain(id);
    expect((await s.approver.client.get(`${BASE}/${id}`)).body).toMatchObject({ can_review: true });
    expect((await s.admin.client.get(`${BASE}/${id}`)).body).toMatchObject({ can_review: false });

    const [a, b] = await Promise.all([
      s.approver.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'matches INC-9' }),
      s.secondApprover.client.post(`${BASE}/${id}/review`, { outcome: 'revoked', comment: 'no' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    const detail = (await me.client.get(`${BASE}/${id}`)).body;
    expect(detail.break_glass.review_state).toBe(a.status === 200 ? 'reviewed' : 'revoked');
    expect(detail.status).toBe(a.status === 200 ? 'approved' : 'revoked');
    expect(winner.body.break_glass.reviewed_by).toBeTruthy();
    expect(await audit(id, 'access_request.break_glass_reviewed')).toHaveLength(1);
    expect(await queue(s.admin)).not.toContain(id);
    // The requester hears the outcome.
    expect(await noticesOf(id, 'access_request.break_glass_reviewed')).toContain(me.id);
    const again = await s.approver.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_reviewed');
    // Not break-glass: 409.
    const ordinary = (await s.requester.client.post(BASE, { template_id: await s.template(), duration_mins: 60, justification: 'x', fields: { ticket: 'T-1' } })).body.id;
    expect((await s.approver.client.post(`${BASE}/${ordinary}/review`, { outcome: 'reviewed', comment: 'x' })).body.code).toBe('not_break_glass');
  });

  it('lets an admin review when nobody else can', async () => {
    const lonely = await breakGlassTemplate({ approver_group_ids: [], approval: 'open', escalation_after_mins: null, escalation_group_id: null });
    const me = await responder();
    const id = (await activate(me, { template_id: lonely })).body.id as string;
    // On an open template anyone may see the request, but "anyone may approve" does not stretch to reviewing.
    expect((await s.outsider.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'x' })).status).toBe(403);
    const res = await s.admin.client.post(`${BASE}/${id}/review`, { outcome: 'reviewed', comment: 'checked the incident log' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.break_glass).toMatchObject({ review_state: 'reviewed', reviewed_by: { id: s.admin.id }, review_comment: 'checked the incident log' });
    expect(res.body.status).toBe('approved');
    await me.client.post(`${BASE}/${id}/revoke`, { reason: 'done' });
  });

  it('a revoking review ends access on token, refresh, userinfo and introspection', async () => {
    const me = await responder();
    const id = (await activate(me)).body.id as string;
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const rp = await relyingParty(server(), app);
    const browser = new Browser(server().url);
    const signedIn = await codeFlow(rp, browser, app, { email: me.email, password: PASSWORD });
    expect(signedIn.tokens.claims()).toMatchObject({ role: 'prod-admin' });
    expect(await client.tokenIntrospection(rp, signedIn.tokens.access_token)).toMatchObject({ active: true, role: 'prod-admin' });

    const res = await s.approver.client.post(`${BASE}/${id}/review`, { outcome: 'revoked', comment: 'not an incident' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'revoked', end_reason: 'manual', revoke_reason: 'break-glass review: not an incident', break_glass: { review_state: 'revoked' } });
    expect(await audit(id, 'access_request.revoked')).toHaveLength(1);

    await expect(client.refreshTokenGrant(rp, signedIn.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await client.tokenIntrospection(rp, signedIn.tokens.access_token)).toEqual({ active: false });
    await expect(client.fetchUserInfo(rp, signedIn.tokens.access_token, me.id)).rejects.toBeDefined();
    // A new token (single sign-on still works) no longer carries the claim.
    const again = await codeFlow(rp, browser, app, {});
    expect(again.tokens.claims()).not.toHaveProperty('role');
    expect(await client.fetchUserInfo(rp, again.tokens.access_token, me.id)).not.toHaveProperty('role');
    // The slot is free again.
    expect((await activate(me)).status).toBe(201);
  });

  it('alerts once when a review is overdue, even an expired grant, with several workers', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const me = await responder();
    const id = (await activate(me, { duration_mins: 10 })).body.id as string;
    const reviewed = await responder();
    const done = (await activate(reviewed)).body.id as string;
    expect((await s.approver.client.post(`${BASE}/${done}/review`, { outcome: 'reviewed', comment: 'ok' })).status).toBe(200);

    vi.setSystemTime(Date.now() + 119 * MINUTE);
    expect(await server().app.services.breakGlass.alertOverdueReviews()).toBe(0);
    vi.setSystemTime(Date.now() + 2 * MINUTE);
    await server().app.services.requests.expireDueGrants();
    const second = dialect === 'postgres' ? openDatabase(server().config.database) : server().app.database;
    try {
      const other = createBreakGlassService(createCore(second, server().app.core.clock, server().url, server().app.core.passwords), { submissionsPerMinute: 10 }, assuranceOf(server()));
      const results = await Promise.all([server().app.services.breakGlass.alertOverdueReviews(1), other.alertOverdueReviews(1), server().app.services.breakGlass.alertOverdueReviews()]);
      // Others' grants in this suite may be overdue too; this one is alerted exactly once.
      expect(results.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    } finally {
      if (second !== server().app.database) await second.close();
    }
    expect(await server().app.services.breakGlass.alertOverdueReviews()).toBe(0);
    expect(await audit(id, 'access_request.break_glass_review_overdue')).toHaveLength(1);
    expect(await audit(done, 'access_request.break_glass_review_overdue')).toHaveLength(0);
    expect(await noticesOf(id, 'access_request.break_glass_review_overdue')).toEqual(expect.arrayContaining([s.admin.id, s.approver.id]));
    const detail = (await s.approver.client.get(`${BASE}/${id}`)).body;
    expect(detail).toMatchObject({ status: 'expired', break_glass: { review_state: 'unreviewed', review_overdue: true }, can_review: true });
    // Still reviewable after it expired; revoking then records the verdict without a second ending.
    const late = await s.approver.client.post(`${BASE}/${id}/review`, { outcome: 'revoked', comment: 'unjustified' });
    expect(late.status, JSON.stringify(late.body)).toBe(200);
    expect(late.body).toMatchObject({ status: 'expired', break_glass: { review_state: 'revoked' } });
    expect(await audit(id, 'access_request.revoked')).toHaveLength(0);
  });

  it('the queue pages with a cursor', async () => {
    const first = await s.admin.client.get(`${BASE}/break-glass/unreviewed?limit=1`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.next_cursor).toBe(first.body.items[0].id);
    const next = await s.admin.client.get(`${BASE}/break-glass/unreviewed?limit=1&cursor=${first.body.next_cursor}`);
    expect(next.body.items[0]?.id).not.toBe(first.body.items[0].id);
    expect((await s.admin.client.get(`${BASE}/break-glass/unreviewed?limit=0`)).status).toBe(400);
  });
});
