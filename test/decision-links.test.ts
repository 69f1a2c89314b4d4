import { afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';

const BASE = '/api/v1/access-requests';
const LINKS = '/api/v1/decision-links';
const MINUTE = 60_000;

/** Issue 15: one-time decision links for Slack and the CLI, and the decision page's API. */
describeEachDialect('decision links', (server) => {
  let s: AccessSetup;
  let stepUpTemplate: string;
  let totp: Awaited<ReturnType<typeof enrolTotp>>;

  beforeAll(async () => {
    s = await setUpAccess(server());
    totp = await enrolTotp(server(), s.approver.id);
    stepUpTemplate = await s.template({ step_up_minutes: 5 });
  });
  let minutes = 0;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + ++minutes * 20 * MINUTE);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const pending = async (templateId = s.templateId) => {
    const requester = await createPerson(server(), 'requester');
    const res = await requester.client.post(BASE, validRequest(templateId));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id as string, requester };
  };
  const link = async (who: Person, body: Record<string, unknown>) => {
    const res = await who.client.post(LINKS, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const url = new URL(res.body.url);
    expect(url.pathname).toMatch(/^\/decide\/[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(res.body.expires_at) - Date.now()).toBeGreaterThan(9 * MINUTE);
    return url.pathname.split('/').pop()!;
  };
  const statusOf = async (id: string) => (await server().app.core.db.selectFrom('access_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
  const proof = async (binding: { action: string; target: string; stage?: number | null }) => {
    vi.setSystemTime(Date.now() + 31_000);
    const started = await s.approver.client.post('/api/v1/step-up', binding);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect((await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: totp.code() })).status).toBe(200);
    return started.body.id as string;
  };

  it('makes a link to the decision page; reading it never uses it; completing it decides once', async () => {
    const r = await pending();
    const token = await link(s.approver, { request_id: r.id, decision: 'approve', comment: 'from the terminal' });
    // Stored hashed: the token itself is nowhere in the database.
    const rows = await server().app.core.db.selectFrom('decision_links').selectAll().execute();
    expect(rows.some((row) => row.token_hash === token)).toBe(false);

    for (let i = 0; i < 3; i++) {
      const read = await s.approver.client.get(`${LINKS}/${token}`);
      expect(read.status, JSON.stringify(read.body)).toBe(200);
      expect(read.body).toMatchObject({ decision: 'approve', stage: 1, comment: 'from the terminal', request: { id: r.id, status: 'pending' }, step_up: { required: false, has_factor: true } });
    }
    expect(await statusOf(r.id)).toBe('pending');

    const done = await s.approver.client.post(`${LINKS}/${token}/complete`, {});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('approved');
    const again = await s.approver.client.post(`${LINKS}/${token}/complete`, {});
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('link_used');
    expect((await s.approver.client.get(`${LINKS}/${token}`)).body.code).toBe('link_used');
  });

  it('is for its own person only, through the portal', async () => {
    const r = await pending();
    const token = await link(s.approver, { request_id: r.id, decision: 'deny', comment: 'not now' });
    const other = await s.secondApprover.client.get(`${LINKS}/${token}`);
    expect(other.status).toBe(403);
    expect((await s.secondApprover.client.post(`${LINKS}/${token}/complete`, {})).status).toBe(403);
    expect((await new ApiClient(server().url).get(`${LINKS}/${token}`)).status).toBe(401);
    expect((await new ApiClient(server().url).post(`${LINKS}/${token}/complete`, {})).status).toBe(401);
    // An API token is not the portal: the decision page needs the person signed in.
    const issued = await s.approver.client.post('/api/v1/api-tokens', { name: 'cli', expires_at: new Date(Date.now() + 30 * 24 * 60 * MINUTE).toISOString() });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const viaToken = new ApiClient(server().url).withToken(issued.body.token);
    expect((await viaToken.get(`${LINKS}/${token}`)).body.code).toBe('session_required');
    // …but a token may make links (the CLI does).
    expect((await viaToken.post(LINKS, { request_id: r.id, decision: 'deny' })).status).toBe(201);
    expect((await s.approver.client.get(`${LINKS}/${'A'.repeat(43)}`)).status).toBe(404);
    expect(await statusOf(r.id)).toBe('pending');
    expect((await s.approver.client.post(`${LINKS}/${token}/complete`, {})).body.status).toBe('denied');
  });

  it('is made only for someone who may make that decision now', async () => {
    const r = await pending();
    expect((await new ApiClient(server().url).post(LINKS, { request_id: r.id, decision: 'approve' })).status).toBe(401);
    expect((await s.outsider.client.post(LINKS, { request_id: r.id, decision: 'approve' })).status).toBe(404);
    const own = await r.requester.client.post(LINKS, { request_id: r.id, decision: 'approve' });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('own_request');
    const notActive = await s.approver.client.post(LINKS, { request_id: r.id, decision: 'revoke', reason: 'x' });
    expect(notActive.status).toBe(409);
    expect((await s.approver.client.post(LINKS, { request_id: r.id, decision: 'approve', stage: 2 })).body.code).toBe('stage_moved_on');
  });

  it.each([
    ['an unknown decision', { decision: 'maybe' }, 'decision'],
    ['a request id that is not a uuid', { request_id: 'x' }, 'request_id'],
    ['revoke without a reason', { decision: 'revoke' }, 'reason'],
    ['a reason on an approval', { reason: 'x' }, 'reason'],
    ['a stage on a revocation', { decision: 'revoke', reason: 'x', stage: 1 }, 'stage'],
    ['stage 0', { stage: 0 }, 'stage'],
    ['an unknown field', { extra: 1 }, ''],
  ])('refuses %s with 400 naming the field', async (_name, body, field) => {
    const res = await s.approver.client.post(LINKS, { request_id: '01900000-0000-7000-8000-000000000000', decision: 'approve', ...body });
    expect(res.status).toBe(400);
    if (field) expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    const badToken = await s.approver.client.get(`${LINKS}/not-a-token`);
    expect(badToken.status).toBe(400);
    expect(badToken.body.errors.map((e: { field: string }) => e.field)).toContain('params.token');
  });

  it('expires after 10 minutes', async () => {
    const r = await pending();
    const token = await link(s.approver, { request_id: r.id, decision: 'approve' });
    vi.setSystemTime(Date.now() + 10 * MINUTE + 1000);
    expect((await s.approver.client.get(`${LINKS}/${token}`)).body.code).toBe('link_expired');
    const late = await s.approver.client.post(`${LINKS}/${token}/complete`, {});
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('link_expired');
    expect(await statusOf(r.id)).toBe('pending');
  });

  it('on a step-up template: completing needs a proof for that decision, spent with the link in one transaction', async () => {
    const r = await pending(stepUpTemplate);
    const token = await link(s.approver, { request_id: r.id, decision: 'approve' });
    const read = await s.approver.client.get(`${LINKS}/${token}`);
    expect(read.body.step_up).toEqual({ required: true, has_factor: true, max_age_minutes: 5, binding: { action: 'approve', target: r.id, stage: 1 } });
    const none = await s.approver.client.post(`${LINKS}/${token}/complete`, {});
    expect(none.body.code).toBe('step_up_required');
    // The refusal rolled back: the link is still there.
    const wrong = await proof({ action: 'deny', target: r.id, stage: 1 });
    expect((await s.approver.client.post(`${LINKS}/${token}/complete`, { step_up: wrong })).body.code).toBe('step_up_invalid');
    const id = await proof(read.body.step_up.binding);
    const done = await s.approver.client.post(`${LINKS}/${token}/complete`, { step_up: id });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const audit = await server().app.core.db.selectFrom('audit_events').select('data').where('request_id', '=', r.id).where('action', '=', 'access_request.approved').execute();
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ step_up: { proof_id: id, method: 'totp' } });
  });

  it('two completions at once, and a link racing its own decision: one decision', async () => {
    const r = await pending();
    const token = await link(s.approver, { request_id: r.id, decision: 'approve' });
    const twice = await Promise.all([0, 1, 2].map(() => s.approver.client.post(`${LINKS}/${token}/complete`, {})));
    expect(twice.filter((x) => x.status === 200)).toHaveLength(1);

    const raced = await pending(stepUpTemplate);
    const raceToken = await link(s.approver, { request_id: raced.id, decision: 'approve' });
    const forLink = await proof({ action: 'approve', target: raced.id, stage: 1 });
    const forPortal = await proof({ action: 'approve', target: raced.id, stage: 1 });
    const results = await Promise.all([
      s.approver.client.post(`${LINKS}/${raceToken}/complete`, { step_up: forLink }),
      s.approver.client.post(`${BASE}/${raced.id}/approve`, { step_up: forPortal }),
    ]);
    expect(results.filter((x) => x.status === 200)).toHaveLength(1);
    const approved = await server().app.core.db.selectFrom('audit_events').select('data').where('request_id', '=', raced.id).where('action', '=', 'access_request.approved').execute();
    expect(approved).toHaveLength(1);
    // The service function Slack calls makes the same links.
    const viaService = await server().app.services.decisionLinks.create({ userId: s.approver.id, requestId: (await pending()).id, decision: 'deny', stage: 1, comment: 'from Slack' });
    expect(viaService.url).toMatch(/\/decide\/[A-Za-z0-9_-]{43}$/);
  });
});
