import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGroup, createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const TEMPLATES = '/api/v1/access-request-templates';
const REQUESTS = '/api/v1/access-requests';

/** Issue 12 §1: ordered approval stages, quorum, per-stage notification and escalation, races. */
describeEachDialect('approval stages and quorum', (server) => {
  let s: AccessSetup;
  /** Stage 2's approvers (three, so a quorum of 2 can race). */
  let security: Person[];
  let securityGroup: string;
  beforeAll(async () => {
    s = await setUpAccess(server());
    security = await Promise.all([createPerson(server(), 'sec1'), createPerson(server(), 'sec2'), createPerson(server(), 'sec3')]);
    securityGroup = await createGroup(
      server(),
      'security',
      security.map((p) => p.id),
    );
  });
  /** A fresh requester per test, so the submission rate limit never interferes. */
  let requester: Person;
  beforeEach(async () => {
    requester = await createPerson(server(), 'asker');
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const db = () => server().app.core.db;
  const auditCount = async (id: string, action: string) =>
    (await db().selectFrom('audit_events').select('seq').where('request_id', '=', id).where('action', '=', action).execute()).length;
  const grantGroups = async (id: string) => (await db().selectFrom('groups').select('id').where('name', '=', `__access_req_${id}`).execute()).length;
  const noticesOf = async (p: Person, requestId: string, kind: string) =>
    ((await p.client.get('/api/v1/notifications')).body.items as { kind: string; request_id: string }[]).filter((n) => n.kind === kind && n.request_id === requestId).length;

  /** Two stages: the approver group with `quorum`, then security (quorum 1, escalating to the managers after 30 minutes). */
  const twoStages = (quorum = 2, over: Record<string, unknown> = {}) =>
    s.template({
      approver_group_ids: undefined,
      escalation_after_mins: undefined,
      escalation_group_id: undefined,
      stages: [
        { approver_group_ids: [s.approverGroupId], quorum },
        { approver_group_ids: [securityGroup], escalation_after_mins: 30, escalation_group_id: s.escalationGroupId },
      ],
      ...over,
    });

  describe('templates', () => {
    it('refuses bad stages: quorum 0, no stages, an implied open stage, half an escalation, stages beside flat attributes', async () => {
      const base = { name: 'stages-bad', app_id: s.appId, mapping_ids: [s.mappingId], allowed_durations: [60] };
      const fieldsOf = async (body: Record<string, unknown>) => {
        const res = await server().admin.post(TEMPLATES, { ...base, ...body });
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        return (res.body.errors as { field: string }[]).map((e) => e.field);
      };
      expect(await fieldsOf({ stages: [{ approver_group_ids: [s.approverGroupId], quorum: 0 }] })).toContain('stages.0.quorum');
      expect(await fieldsOf({ stages: [] })).toContain('stages');
      expect(await fieldsOf({ stages: [{ approver_group_ids: [s.approverGroupId] }, { approver_group_ids: [] }] })).toContain('stages.1.approver_group_ids');
      expect(await fieldsOf({ stages: [{ approver_group_ids: [s.approverGroupId], escalation_after_mins: 10 }] })).toContain('stages.0.escalation_group_id');
      expect(await fieldsOf({ approver_group_ids: [s.approverGroupId], stages: [{ approver_group_ids: [s.approverGroupId] }] })).toEqual(['stages']);
      expect(await fieldsOf({ stages: [{ approver_group_ids: [s.approverGroupId] }, { approver_group_ids: ['00000000-0000-7000-8000-000000000000'] }] })).toContain(
        'stages.1.approver_group_ids.0',
      );
    });

    it('lets only admins define stages', async () => {
      const res = await s.approver.client.post(TEMPLATES, {
        name: 'stages-mine',
        app_id: s.appId,
        mapping_ids: [s.mappingId],
        allowed_durations: [60],
        stages: [{ approval: 'open' }],
      });
      expect(res.status).toBe(403);
    });

    it('returns both forms consistently: flat attributes only for one stage, stages always; PATCH moves between them', async () => {
      const id = await twoStages(5);
      const staged = (await server().admin.get(`${TEMPLATES}/${id}`)).body;
      // A quorum larger than the stage's current approvers is allowed (membership changes); the request simply waits.
      expect(staged).toMatchObject({ approval: null, approver_group_ids: [], escalation_after_mins: null, escalation_group_id: null });
      expect(staged.stages).toEqual([
        { position: 1, approval: 'groups', approver_group_ids: [s.approverGroupId], quorum: 5, escalation_after_mins: null, escalation_group_id: null },
        { position: 2, approval: 'groups', approver_group_ids: [securityGroup], quorum: 1, escalation_after_mins: 30, escalation_group_id: s.escalationGroupId },
      ]);
      const flat = await server().admin.patch(`${TEMPLATES}/${id}`, { approver_group_ids: [securityGroup] });
      expect(flat.status, JSON.stringify(flat.body)).toBe(200);
      expect(flat.body).toMatchObject({ approval: 'groups', approver_group_ids: [securityGroup], version: staged.version + 1 });
      expect(flat.body.stages).toEqual([{ position: 1, approval: 'groups', approver_group_ids: [securityGroup], quorum: 1, escalation_after_mins: null, escalation_group_id: null }]);
      const open = await server().admin.patch(`${TEMPLATES}/${id}`, { stages: [{ approval: 'open', quorum: 2 }, { approver_group_ids: [securityGroup] }] });
      expect(open.status, JSON.stringify(open.body)).toBe(200);
      expect(open.body.stages.map((st: { approval: string; quorum: number }) => [st.approval, st.quorum])).toEqual([
        ['open', 2],
        ['groups', 1],
      ]);
      // A group a stage names cannot be deleted.
      expect((await server().admin.delete(`/api/v1/groups/${securityGroup}`)).status).toBe(409);
    });

    it('shows the requester, before submitting, who approves each stage and where it escalates', async () => {
      const id = await twoStages();
      const list = await requester.client.get(`${TEMPLATES}/requestable?limit=200`);
      const mine = (list.body.items as { id: string; stages: unknown[] }[]).find((t) => t.id === id)!;
      expect(mine.stages).toEqual([
        { position: 1, open: false, approver_groups: [{ id: s.approverGroupId, name: expect.any(String) }], quorum: 2, escalation_after_mins: null, escalation_group: null },
        {
          position: 2,
          open: false,
          approver_groups: [{ id: securityGroup, name: expect.stringContaining('security') }],
          quorum: 1,
          escalation_after_mins: 30,
          escalation_group: { id: s.escalationGroupId, name: expect.stringContaining('managers') },
        },
      ]);
    });
  });

  describe('decisions', () => {
    it('moves through the stages: quorum, stage_approved with the approvals, the next stage notified, then one grant', async () => {
      const templateId = await twoStages();
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      expect(body).toMatchObject({ status: 'pending', current_stage: 1, stage_count: 2, approvals: [] });
      expect(body.stages[1].approver_groups[0].id).toBe(securityGroup);

      const first = await s.approver.client.post(`${REQUESTS}/${body.id}/approve`, { comment: 'fine by me' });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body).toMatchObject({ status: 'pending', current_stage: 1 });
      expect(first.body.approvals).toEqual([{ stage: 1, approver: expect.objectContaining({ id: s.approver.id }), comment: 'fine by me', at: expect.any(String) }]);
      // One person counts once.
      const again = await s.approver.client.post(`${REQUESTS}/${body.id}/approve`, {});
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('already_approved');
      expect((await s.approver.client.get(`${REQUESTS}/${body.id}`)).body.can_decide).toBe(false);
      expect(((await s.approver.client.get(`${REQUESTS}/inbox`)).body.items as { id: string }[]).map((r) => r.id)).not.toContain(body.id);
      // Stage 2's approvers cannot decide stage 1, and are not asked yet.
      expect((await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {})).status).toBe(403);
      expect(await noticesOf(security[0]!, body.id, 'access_request.stage_approved')).toBe(0);

      const second = await s.secondApprover.client.post(`${REQUESTS}/${body.id}/approve`, {});
      expect(second.status, JSON.stringify(second.body)).toBe(200);
      expect(second.body).toMatchObject({ status: 'pending', current_stage: 2 });
      expect(await auditCount(body.id, 'access_request.stage_approved')).toBe(1);
      const event = await db().selectFrom('audit_events').select('data').where('request_id', '=', body.id).where('action', '=', 'access_request.stage_approved').executeTakeFirstOrThrow();
      const data = (typeof event.data === 'string' ? JSON.parse(event.data) : event.data) as { stage: number; next_stage: number; approvals: { approver_id: string }[] };
      expect(data.stage).toBe(1);
      expect(data.next_stage).toBe(2);
      expect(data.approvals.map((a) => a.approver_id).sort()).toEqual([s.approver.id, s.secondApprover.id].sort());
      // The next stage's approvers are told (the template's policy is "all"), and it is in their inbox.
      for (const p of security) expect(await noticesOf(p, body.id, 'access_request.stage_approved')).toBe(1);
      expect(((await security[1]!.client.get(`${REQUESTS}/inbox`)).body.items as { id: string }[]).map((r) => r.id)).toContain(body.id);
      expect((await security[1]!.client.get(`${REQUESTS}/${body.id}`)).body.can_decide).toBe(true);
      // Stage 1's approvers no longer decide.
      const late = await s.secondApprover.client.post(`${REQUESTS}/${body.id}/deny`, {});
      expect(late.status).toBe(403);

      const last = await security[1]!.client.post(`${REQUESTS}/${body.id}/approve`, {});
      expect(last.status, JSON.stringify(last.body)).toBe(200);
      expect(last.body).toMatchObject({ status: 'approved', current_stage: 2 });
      expect(last.body.approvals.map((a: { stage: number; approver: { id: string } }) => [a.stage, a.approver.id])).toEqual([
        [1, s.approver.id],
        [1, s.secondApprover.id],
        [2, security[1]!.id],
      ]);
      expect(await auditCount(body.id, 'access_request.approved')).toBe(1);
      expect(await grantGroups(body.id)).toBe(1);
      // The requester sees where it went and who approved.
      const seen = (await requester.client.get(`${REQUESTS}/${body.id}`)).body;
      expect(seen.approvals).toHaveLength(3);
      expect(seen.stages).toHaveLength(2);
    });

    it('applies the notification policy per stage: first_n asks one of the next stage, and records who was asked', async () => {
      const templateId = await twoStages(1, { notification_policy: 'first_n', notification_count: 1 });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      const notifiedAtSubmit = body.notified_approvers.map((p: { id: string }) => p.id) as string[];
      expect(notifiedAtSubmit).toHaveLength(1);
      await s.approver.client.post(`${REQUESTS}/${body.id}/approve`, {});
      const told = await Promise.all(security.map((p) => noticesOf(p, body.id, 'access_request.stage_approved')));
      expect(told.reduce((a, b) => a + b, 0)).toBe(1);
      const asked = security[told.indexOf(1)]!;
      const after = (await requester.client.get(`${REQUESTS}/${body.id}`)).body;
      expect(after.notified_approvers.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining([...notifiedAtSubmit, asked.id]));
      // Stage 1's approvers are not asked again.
      expect(await noticesOf(s.secondApprover, body.id, 'access_request.stage_approved')).toBe(0);
    });

    it('never counts the requester, nor anyone outside the stage', async () => {
      const templateId = await s.template({ approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approval: 'open', quorum: 2 }] });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      const own = await requester.client.post(`${REQUESTS}/${body.id}/approve`, {});
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('own_request');
      expect((await db().selectFrom('access_request_votes').select('approver_id').where('request_id', '=', body.id).execute()).length).toBe(0);

      const gated = await twoStages();
      const other = (await requester.client.post(REQUESTS, validRequest(gated))).body;
      expect((await s.outsider.client.post(`${REQUESTS}/${other.id}/approve`, {})).status).toBe(404);
      expect((await s.outsider.client.post(`${REQUESTS}/${other.id}/deny`, {})).status).toBe(404);
    });

    it('ends the request on a denial at stage 2, with the denier comment, and grants nothing', async () => {
      const templateId = await twoStages(1);
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      expect((await s.approver.client.post(`${REQUESTS}/${body.id}/approve`, {})).body.current_stage).toBe(2);
      const denied = await security[2]!.client.post(`${REQUESTS}/${body.id}/deny`, { comment: 'not during the freeze' });
      expect(denied.status, JSON.stringify(denied.body)).toBe(200);
      expect(denied.body).toMatchObject({ status: 'denied', current_stage: 2, decision_comment: 'not during the freeze', decided_by: { id: security[2]!.id } });
      expect((await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {})).status).toBe(409);
      expect(await grantGroups(body.id)).toBe(0);
      // The requester is told, and may ask again.
      expect(await noticesOf(requester, body.id, 'access_request.denied')).toBe(1);
      expect((await requester.client.post(REQUESTS, validRequest(templateId))).status).toBe(201);
    });

    it('escalates per stage: stage 1 after its delay, then stage 2 after its own, each once, to its own group', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const templateId = await s.template({
        approver_group_ids: undefined,
        escalation_after_mins: undefined,
        escalation_group_id: undefined,
        stages: [
          { approver_group_ids: [s.approverGroupId], escalation_after_mins: 15, escalation_group_id: securityGroup },
          { approver_group_ids: [securityGroup], escalation_after_mins: 30, escalation_group_id: s.escalationGroupId },
        ],
      });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      vi.setSystemTime(Date.now() + 16 * 60_000);
      await server().app.runWorkerOnce();
      expect(await auditCount(body.id, 'access_request.escalated')).toBe(1);
      // Stage 1 escalated to security: a security member decides stage 1.
      const viaEscalation = await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {});
      expect(viaEscalation.status, JSON.stringify(viaEscalation.body)).toBe(200);
      expect(viaEscalation.body).toMatchObject({ current_stage: 2, escalated: false });
      // The escalation of stage 1 does not carry over: the managers may not decide stage 2 yet.
      expect((await s.escalationMember.client.get(`${REQUESTS}/${body.id}`)).status).toBe(404);
      vi.setSystemTime(Date.now() + 29 * 60_000);
      await server().app.runWorkerOnce();
      expect(await auditCount(body.id, 'access_request.escalated')).toBe(1);
      vi.setSystemTime(Date.now() + 2 * 60_000);
      await server().app.runWorkerOnce();
      await server().app.runWorkerOnce();
      expect(await auditCount(body.id, 'access_request.escalated')).toBe(2);
      expect(await noticesOf(s.escalationMember, body.id, 'access_request.escalated')).toBe(1);
      const detail = await s.escalationMember.client.get(`${REQUESTS}/${body.id}`);
      expect(detail.body).toMatchObject({ escalated: true, can_decide: true, current_stage: 2 });
      // One person counts once per request: security[0] approved stage 1, so another decides stage 2.
      expect((await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {})).body.code).toBe('already_approved');
      const done = await s.escalationMember.client.post(`${REQUESTS}/${body.id}/approve`, {});
      expect(done.body.status).toBe('approved');
    });
  });

  describe('races', () => {
    it('gives one approval and one grant when the two last votes of a quorum arrive together', async () => {
      const templateId = await s.template({ approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approver_group_ids: [securityGroup], quorum: 2 }] });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      expect((await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {})).body.status).toBe('pending');
      const results = await Promise.all([security[1]!.client.post(`${REQUESTS}/${body.id}/approve`, {}), security[2]!.client.post(`${REQUESTS}/${body.id}/approve`, {})]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 200)!.body.status).toBe('approved');
      expect(await auditCount(body.id, 'access_request.approved')).toBe(1);
      expect(await grantGroups(body.id)).toBe(1);
      // The losing vote was rolled back with its transaction: two approvals count.
      expect((await requester.client.get(`${REQUESTS}/${body.id}`)).body.approvals).toHaveLength(2);
    });

    it('gives one approval and one grant when three votes race for a quorum of two from nothing', async () => {
      const templateId = await s.template({ approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approver_group_ids: [securityGroup], quorum: 2 }] });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      const results = await Promise.all(security.map((p) => p.client.post(`${REQUESTS}/${body.id}/approve`, {})));
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 409]);
      expect(await auditCount(body.id, 'access_request.approved')).toBe(1);
      expect(await grantGroups(body.id)).toBe(1);
    });

    it('settles a denial racing the final approval one way', async () => {
      const templateId = await s.template({ approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approver_group_ids: [securityGroup], quorum: 2 }] });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {});
      const [approve, deny] = await Promise.all([
        security[1]!.client.post(`${REQUESTS}/${body.id}/approve`, {}),
        security[2]!.client.post(`${REQUESTS}/${body.id}/deny`, { comment: 'no' }),
      ]);
      expect([approve.status, deny.status].sort()).toEqual([200, 409]);
      const final = (await requester.client.get(`${REQUESTS}/${body.id}`)).body.status;
      expect(final).toBe(approve.status === 200 ? 'approved' : 'denied');
      expect((await auditCount(body.id, 'access_request.approved')) + (await auditCount(body.id, 'access_request.denied'))).toBe(1);
      expect(await grantGroups(body.id)).toBe(final === 'approved' ? 1 : 0);
    });

    it('counts the same person once when they approve several times at once', async () => {
      const templateId = await s.template({ approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approver_group_ids: [securityGroup], quorum: 2 }] });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      const results = await Promise.all(Array.from({ length: 4 }, () => security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {})));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual(['already_approved', 'already_approved', 'already_approved']);
      const seen = (await requester.client.get(`${REQUESTS}/${body.id}`)).body;
      expect(seen).toMatchObject({ status: 'pending', current_stage: 1 });
      expect(seen.approvals).toHaveLength(1);
    });

    it('advances a stage once when its last two votes arrive together', async () => {
      const templateId = await s.template({
        approver_group_ids: undefined,
        escalation_after_mins: undefined,
        escalation_group_id: undefined,
        stages: [{ approver_group_ids: [securityGroup], quorum: 2 }, { approver_group_ids: [s.approverGroupId] }],
      });
      const { body } = await requester.client.post(REQUESTS, validRequest(templateId));
      await security[0]!.client.post(`${REQUESTS}/${body.id}/approve`, {});
      const results = await Promise.all([security[1]!.client.post(`${REQUESTS}/${body.id}/approve`, {}), security[2]!.client.post(`${REQUESTS}/${body.id}/approve`, {})]);
      // The second arrives in stage 2, where security does not decide.
      expect(results.map((r) => r.status).sort(), JSON.stringify(results.map((r) => r.body))).toEqual([200, 403]);
      expect(await auditCount(body.id, 'access_request.stage_approved')).toBe(1);
      expect((await requester.client.get(`${REQUESTS}/${body.id}`)).body).toMatchObject({ current_stage: 2, status: 'pending' });
    });
  });
});
