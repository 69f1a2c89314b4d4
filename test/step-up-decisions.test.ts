import { afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { listHashOf } from '../src/modules/step-up/index.ts';
import { createGroup, createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';

const BASE = '/api/v1/access-requests';
const MINUTE = 60_000;

/** Issue 15 §1: a template's step-up protects approve, deny, revoke, bulk decisions and break-glass, each bound to exactly that act. */
describeEachDialect('step-up for decisions', (server) => {
  let s: AccessSetup;
  let stepUpTemplate: string;
  let twoStages: string;
  let plain: string;
  const codes = new Map<string, Awaited<ReturnType<typeof enrolTotp>>>();

  beforeAll(async () => {
    s = await setUpAccess(server());
    for (const p of [s.approver, s.secondApprover, s.admin]) codes.set(p.id, await enrolTotp(server(), p.id));
    stepUpTemplate = await s.template({ step_up_minutes: 5, allow_bulk_decisions: true });
    twoStages = await s.template({ step_up_minutes: 5, approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approver_group_ids: [s.approverGroupId] }, { approver_group_ids: [s.approverGroupId] }] });
    plain = await s.template();
  });
  // Each test starts a minute later than the last: a TOTP code is accepted once per 30-second step.
  let minutes = 0;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + ++minutes * 10 * MINUTE);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A pending request on `templateId` from a fresh requester (one open request per template and requester). */
  const pending = async (templateId: string) => {
    const requester = await createPerson(server(), 'requester');
    const res = await requester.client.post(BASE, validRequest(templateId));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: res.body.id as string, requester };
  };
  /** Starts and verifies a step-up for `binding` (the next TOTP step: the clock moves 31 s). */
  const proof = async (who: Person, binding: { action: string; target: string; stage?: number | null }) => {
    vi.setSystemTime(Date.now() + 31_000);
    const started = await who.client.post('/api/v1/step-up', binding);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const verified = await who.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: codes.get(who.id)!.code() });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    return started.body.id as string;
  };
  const auditData = async (requestId: string, action: string) =>
    (await server().app.core.db.selectFrom('audit_events').select('data').where('request_id', '=', requestId).where('action', '=', action).execute()).map(
      (r) => JSON.parse(r.data) as Record<string, unknown>,
    );
  const approve = (who: Person, id: string, body: Record<string, unknown> = {}) => who.client.post(`${BASE}/${id}/approve`, body);

  it('is a template setting of 1 to 60 minutes, null by default, and 400 names the field', async () => {
    const created = await server().admin.post('/api/v1/access-request-templates', {
      name: `step-up-${Date.now()}`,
      app_id: s.appId,
      mapping_ids: [s.mappingId],
      allowed_durations: [60],
      approver_group_ids: [s.approverGroupId],
      step_up_minutes: 10,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.step_up_minutes).toBe(10);
    expect((await server().admin.get(`/api/v1/access-request-templates/${plain}`)).body.step_up_minutes).toBeNull();
    const off = await server().admin.request('PATCH', `/api/v1/access-request-templates/${created.body.id}`, { step_up_minutes: null });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.step_up_minutes).toBeNull();
    for (const bad of [0, 61, 2.5, '5']) {
      const res = await server().admin.request('PATCH', `/api/v1/access-request-templates/${created.body.id}`, { step_up_minutes: bad });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('step_up_minutes');
    }
  });

  it('approve needs a proof for exactly that request, decision and stage; it is spent once and recorded in the audit event', async () => {
    const a = await pending(stepUpTemplate);
    const b = await pending(stepUpTemplate);
    const none = await approve(s.approver, a.id);
    expect(none.status).toBe(403);
    expect(none.body).toMatchObject({ code: 'step_up_required', step_up: { action: 'approve', target: a.id, stage: 1, max_age_minutes: 5 } });

    const forA = await proof(s.approver, { action: 'approve', target: a.id, stage: 1 });
    expect((await approve(s.approver, b.id, { step_up: forA })).body.code).toBe('step_up_invalid');
    expect((await s.approver.client.post(`${BASE}/${a.id}/deny`, { step_up: forA })).body.code).toBe('step_up_invalid');
    // Another approver cannot spend it either.
    expect((await approve(s.secondApprover, a.id, { step_up: forA })).body.code).toBe('step_up_invalid');
    expect((await server().app.core.db.selectFrom('access_requests').select('status').where('id', '=', b.id).executeTakeFirstOrThrow()).status).toBe('pending');

    const ok = await approve(s.approver, a.id, { step_up: forA, comment: 'checked' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.status).toBe('approved');
    const [event] = await auditData(a.id, 'access_request.approved');
    expect(event).toMatchObject({ step_up: { proof_id: forA, method: 'totp', verified_at: expect.any(String) } });

    // Replayed on a new request with the same binding target: refused (it is spent, and for another request anyway).
    const replay = await approve(s.approver, b.id, { step_up: forA });
    expect(replay.status).toBe(403);
    expect(replay.body.code).toBe('step_up_invalid');
  });

  it('a proof for stage 1 is refused at stage 2 (stages as the API numbers them, current_stage)', async () => {
    const r = await pending(twoStages);
    const stageOne = await proof(s.approver, { action: 'approve', target: r.id, stage: 1 });
    expect((await approve(s.approver, r.id, { step_up: stageOne })).status).toBe(200);
    const [advanced] = await auditData(r.id, 'access_request.stage_approved');
    expect(advanced).toMatchObject({ step_up: { proof_id: stageOne } });

    const secondStageOne = await proof(s.secondApprover, { action: 'approve', target: r.id, stage: 1 });
    const refused = await approve(s.secondApprover, r.id, { step_up: secondStageOne });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'step_up_invalid', step_up: { stage: 2 } });
    const stageTwo = await proof(s.secondApprover, { action: 'approve', target: r.id, stage: 2 });
    const ok = await approve(s.secondApprover, r.id, { step_up: stageTwo });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.status).toBe('approved');
  });

  it('"within N minutes" is the longest time between the check and the commit: a stale proof is refused', async () => {
    const r = await pending(stepUpTemplate);
    const id = await proof(s.approver, { action: 'approve', target: r.id, stage: 1 });
    vi.setSystemTime(Date.now() + 5 * MINUTE + 1000);
    const stale = await approve(s.approver, r.id, { step_up: id });
    expect(stale.status).toBe(403);
    expect(stale.body).toMatchObject({ code: 'step_up_stale', step_up: { action: 'approve', target: r.id, stage: 1, max_age_minutes: 5 } });
    const fresh = await proof(s.approver, { action: 'approve', target: r.id, stage: 1 });
    vi.setSystemTime(Date.now() + 4 * MINUTE);
    expect((await approve(s.approver, r.id, { step_up: fresh })).status).toBe(200);
  });

  it('deny and revoke need their own proofs; the requester giving access back needs none', async () => {
    const d = await pending(stepUpTemplate);
    expect((await s.approver.client.post(`${BASE}/${d.id}/deny`, { comment: 'no' })).body.code).toBe('step_up_required');
    const denyProof = await proof(s.approver, { action: 'deny', target: d.id, stage: 1 });
    const denied = await s.approver.client.post(`${BASE}/${d.id}/deny`, { comment: 'no', step_up: denyProof });
    expect(denied.status, JSON.stringify(denied.body)).toBe(200);
    expect((await auditData(d.id, 'access_request.denied'))[0]).toMatchObject({ step_up: { proof_id: denyProof, method: 'totp' } });

    const r = await pending(stepUpTemplate);
    expect((await approve(s.approver, r.id, { step_up: await proof(s.approver, { action: 'approve', target: r.id, stage: 1 }) })).status).toBe(200);
    const none = await s.approver.client.post(`${BASE}/${r.id}/revoke`, { reason: 'done' });
    expect(none.body).toMatchObject({ code: 'step_up_required', step_up: { action: 'revoke', target: r.id, stage: null } });
    // An approval's proof does not revoke.
    const approveAgain = await proof(s.approver, { action: 'approve', target: r.id, stage: 1 });
    expect((await s.approver.client.post(`${BASE}/${r.id}/revoke`, { reason: 'done', step_up: approveAgain })).body.code).toBe('step_up_invalid');
    const revokeProof = await proof(s.approver, { action: 'revoke', target: r.id, stage: null });
    const revoked = await s.approver.client.post(`${BASE}/${r.id}/revoke`, { reason: 'done', step_up: revokeProof });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect((await auditData(r.id, 'access_request.revoked'))[0]).toMatchObject({ step_up: { proof_id: revokeProof } });

    const own = await pending(stepUpTemplate);
    expect((await approve(s.approver, own.id, { step_up: await proof(s.approver, { action: 'approve', target: own.id, stage: 1 }) })).status).toBe(200);
    const givenBack = await own.requester.client.post(`${BASE}/${own.id}/revoke`, { reason: 'finished early' });
    expect(givenBack.status, JSON.stringify(givenBack.body)).toBe(200);
  });

  it('templates without step-up decide as before, with nothing in the audit event', async () => {
    const r = await pending(plain);
    const ok = await approve(s.approver, r.id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await auditData(r.id, 'access_request.approved'))[0]).not.toHaveProperty('step_up');
  });

  it('an approver without a second factor is told to add one first', async () => {
    const newcomer = await createPerson(server(), 'newcomer');
    expect((await server().admin.request('PUT', `/api/v1/groups/${s.approverGroupId}/members/${newcomer.id}`, {})).status).toBeLessThan(300);
    try {
      const r = await pending(stepUpTemplate);
      const res = await approve(newcomer, r.id);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'step_up_required', step_up: { action: 'approve', target: r.id, no_second_factor: true } });
      expect(res.body.detail).toMatch(/add a passkey or an authenticator app/);
      const start = await newcomer.client.post('/api/v1/step-up', { action: 'approve', target: r.id, stage: 1 });
      expect(start.status).toBe(409);
      expect(start.body.code).toBe('no_second_factor');
    } finally {
      await server().admin.request('DELETE', `/api/v1/groups/${s.approverGroupId}/members/${newcomer.id}`);
    }
  });

  it('a bulk decision takes one proof for its exact, ordered list', async () => {
    const one = await pending(stepUpTemplate);
    const two = await pending(stepUpTemplate);
    const three = await pending(plain);
    const ids = [one.id, two.id];
    const bulk = (body: Record<string, unknown>) => s.approver.client.post(`${BASE}/bulk-decisions`, { decision: 'approve', request_ids: ids, ...body });
    const none = await bulk({});
    expect(none.status).toBe(403);
    expect(none.body).toMatchObject({ code: 'step_up_required', step_up: { action: 'bulk_decision', target: listHashOf(ids), stage: null } });
    // The list in another order is another list.
    const reversed = await proof(s.approver, { action: 'bulk_decision', target: listHashOf([two.id, one.id]) });
    expect((await bulk({ step_up: reversed })).body.code).toBe('step_up_invalid');
    const single = await proof(s.approver, { action: 'approve', target: one.id, stage: 1 });
    expect((await bulk({ step_up: single })).body.code).toBe('step_up_invalid');

    // Stale: verified longer ago than the templates' 5 minutes.
    const old = await proof(s.approver, { action: 'bulk_decision', target: listHashOf(ids) });
    vi.setSystemTime(Date.now() + 5 * MINUTE + 1000);
    expect((await bulk({ step_up: old })).body).toMatchObject({ code: 'step_up_stale', step_up: { action: 'bulk_decision' } });
    const listProof = await proof(s.approver, { action: 'bulk_decision', target: listHashOf(ids) });
    const ok = await bulk({ step_up: listProof });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['approved', 'approved']);
    for (const id of ids) expect((await auditData(id, 'access_request.approved'))[0]).toMatchObject({ step_up: { proof_id: listProof } });
    expect((await bulk({ step_up: listProof })).body.code).toBe('step_up_invalid');

    // A list of templates without step-up needs none.
    const noStepUp = await s.template({ allow_bulk_decisions: true });
    const four = await pending(noStepUp);
    const plainBulk = await s.approver.client.post(`${BASE}/bulk-decisions`, { decision: 'deny', request_ids: [four.id] });
    expect(plainBulk.body.results[0].outcome).toBe('denied');
    expect(three.id).toBeTruthy();

    // Bulk revoke: bound to bulk_revoke and its list.
    const revokeIds = [two.id, one.id];
    const revokeNone = await s.approver.client.post(`${BASE}/bulk-revoke`, { reason: 'incident over', request_ids: revokeIds });
    expect(revokeNone.body).toMatchObject({ code: 'step_up_required', step_up: { action: 'bulk_revoke', target: listHashOf(revokeIds) } });
    const revokeProof = await proof(s.approver, { action: 'bulk_revoke', target: listHashOf(revokeIds) });
    const revoked = await s.approver.client.post(`${BASE}/bulk-revoke`, { reason: 'incident over', request_ids: revokeIds, step_up: revokeProof });
    expect(revoked.body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['revoked', 'revoked']);
    expect((await auditData(one.id, 'access_request.revoked'))[0]).toMatchObject({ step_up: { proof_id: revokeProof } });
  });

  it('break-glass needs step-up when the user has a factor (5 minutes by default), or when the template asks', async () => {
    const responders = await createGroup(server(), 'responders', [s.approver.id, s.outsider.id]);
    const glass = await s.template({ requester_group_ids: [responders], break_glass: true, break_glass_max_mins: 60, break_glass_review_mins: 120, custom_fields: [] });
    const activate = (who: Person, body: Record<string, unknown> = {}) => who.client.post(`${BASE}/break-glass`, { template_id: glass, justification: 'INC-7: primary down', ...body });

    const none = await activate(s.approver);
    expect(none.status).toBe(403);
    expect(none.body).toMatchObject({ code: 'step_up_required', step_up: { action: 'break_glass', target: glass, stage: null, max_age_minutes: 5 } });
    const other = await proof(s.approver, { action: 'break_glass', target: stepUpTemplate });
    expect((await activate(s.approver, { step_up: other })).body.code).toBe('step_up_invalid');
    const id = await proof(s.approver, { action: 'break_glass', target: glass });
    const ok = await activate(s.approver, { step_up: id });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect((await auditData(ok.body.id, 'access_request.break_glass_activated'))[0]).toMatchObject({ step_up: { proof_id: id, method: 'totp' } });

    // Without a factor and without the template asking: as before.
    const noFactor = await activate(s.outsider);
    expect(noFactor.status, JSON.stringify(noFactor.body)).toBe(201);
    // The template asking: the user without a factor is told to add one.
    const strict = await s.template({ requester_group_ids: [responders], break_glass: true, break_glass_max_mins: 60, break_glass_review_mins: 120, custom_fields: [], step_up_minutes: 2 });
    const refused = await s.outsider.client.post(`${BASE}/break-glass`, { template_id: strict, justification: 'INC-8' });
    expect(refused.body).toMatchObject({ code: 'step_up_required', step_up: { no_second_factor: true, max_age_minutes: 2 } });

  });

  it('revoking a break-glass grant on review is a revocation: a step-up template needs a revoke proof', async () => {
    const responders = await createGroup(server(), 'responders', [s.admin.id]);
    const glass = await s.template({ requester_group_ids: [responders], break_glass: true, break_glass_max_mins: 60, break_glass_review_mins: 120, custom_fields: [], step_up_minutes: 5 });
    const activated = await s.admin.client.post(`${BASE}/break-glass`, { template_id: glass, justification: 'INC-10', step_up: await proof(s.admin, { action: 'break_glass', target: glass }) });
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    const id = activated.body.id as string;
    const review = (body: Record<string, unknown>) => s.secondApprover.client.post(`${BASE}/${id}/review`, { outcome: 'revoked', comment: 'not an incident', ...body });
    expect((await review({})).body).toMatchObject({ code: 'step_up_required', step_up: { action: 'revoke', target: id, stage: null } });
    const revokeProof = await proof(s.secondApprover, { action: 'revoke', target: id, stage: null });
    const done = await review({ step_up: revokeProof });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await auditData(id, 'access_request.revoked'))[0]).toMatchObject({ step_up: { proof_id: revokeProof } });
    expect((await auditData(id, 'access_request.break_glass_reviewed'))[0]).toMatchObject({ step_up: { proof_id: revokeProof } });
  });

  it('two decisions racing with one proof: at most one uses it', async () => {
    const r = await pending(stepUpTemplate);
    const id = await proof(s.approver, { action: 'approve', target: r.id, stage: 1 });
    const results = await Promise.all([approve(s.approver, r.id, { step_up: id }), approve(s.approver, r.id, { step_up: id }), approve(s.approver, r.id, { step_up: id })]);
    expect(results.filter((x) => x.status === 200)).toHaveLength(1);
    for (const x of results.filter((y) => y.status !== 200)) expect([403, 409]).toContain(x.status);
    const approved = await auditData(r.id, 'access_request.approved');
    expect(approved).toHaveLength(1);
    expect(approved[0]).toMatchObject({ step_up: { proof_id: id } });
  });
});
