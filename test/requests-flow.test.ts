import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('access requests: the whole life of a request', (server) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const liveGroupNames = async (userId: string) =>
    (await server().admin.get(`/api/v1/users/${userId}/groups`)).body.items.map((g: { name: string }) => g.name) as string[];

  it('submits, is approved, grants through a temporary group, and expires on its own', async () => {
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const id = submitted.body.id;
    expect(submitted.body).toMatchObject({ status: 'pending', duration_mins: 60, fields: { ticket: 'INC-1234', env: 'prod' }, grants: [{ claim: 'role', value: 'prod-admin' }] });
    // Approvers read the answers under the labels the requester saw.
    expect(submitted.body.field_labels).toEqual({ ticket: 'Incident ticket', env: 'Environment', read_only: 'Read only' });

    const mine = await s.requester.client.get('/api/v1/access-requests');
    expect(mine.body.items[0]).toMatchObject({ id, status: 'pending', seconds_left: null });

    const inbox = await s.approver.client.get('/api/v1/access-requests/inbox');
    expect(inbox.body.items.map((r: { id: string }) => r.id)).toContain(id);
    const detail = await s.approver.client.get(`/api/v1/access-requests/${id}`);
    expect(detail.body).toMatchObject({ can_decide: true, justification: 'INC-1234: replica lag in eu-west', comments: [] });

    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const approvedAt = Date.now();
    const approved = await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, { comment: 'go ahead' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decided_by: { id: s.approver.id }, decision_comment: 'go ahead' });
    const expiresAt = Date.parse(approved.body.expires_at);
    expect(expiresAt - Date.parse(approved.body.approved_at)).toBe(60 * 60_000);
    expect(Date.parse(approved.body.approved_at)).toBeGreaterThanOrEqual(approvedAt);
    expect(await liveGroupNames(s.requester.id)).toContain(`__access_req_${id}`);
    expect((await s.requester.client.get('/api/v1/access-requests')).body.items[0].seconds_left).toBeGreaterThan(3500);

    // Nothing happens before the time is up.
    await server().app.runWorkerOnce();
    expect((await s.requester.client.get(`/api/v1/access-requests/${id}`)).body.status).toBe('approved');

    vi.setSystemTime(expiresAt + 1);
    // Token issuance already ignores the group, even before the worker runs.
    expect(await liveGroupNames(s.requester.id)).not.toContain(`__access_req_${id}`);
    await server().app.runWorkerOnce();
    const expired = await s.requester.client.get(`/api/v1/access-requests/${id}`);
    expect(expired.body).toMatchObject({ status: 'expired', end_reason: 'automatic', ended_by: null });
    const grantGroup = await server().app.core.db.selectFrom('groups').select('id').where('name', '=', `__access_req_${id}`).executeTakeFirst();
    expect(grantGroup).toBeUndefined();
    // Idempotent: another pass finds nothing.
    expect(await server().app.services.requests.expireDueGrants()).toBe(0);

    // Without SMTP the notification emails dead-letter at once (delivery.dead_lettered); the lifecycle is what counts here.
    const timeline = await s.requester.client.get(`/api/v1/access-requests/${id}/timeline`);
    timeline.body = timeline.body.filter((e: { action: string }) => e.action.startsWith('access_request.'));
    expect(timeline.body.map((e: { action: string }) => e.action)).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.activated', 'access_request.expired']);
    expect(timeline.body[3].data).toMatchObject({ end_reason: 'automatic' });
    expect((await verifyAuditChain(server().app.core.db)).ok).toBe(true);
  });

  it('allows one open request per template and names the open one', async () => {
    const first = await s.outsider.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(first.status).toBe(201);
    const second = await s.outsider.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'request_already_open', existing_request_id: first.body.id });
    expect((await s.outsider.client.post(`/api/v1/access-requests/${first.body.id}/cancel`, {})).body.status).toBe('cancelled');
    expect((await s.outsider.client.post('/api/v1/access-requests', validRequest(s.templateId))).status).toBe(201);
  });

  it('denies with a comment, and closes the discussion afterwards', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect((await s.approver.client.post(`/api/v1/access-requests/${body.id}/comments`, { body: 'Which replica?' })).status).toBe(201);
    expect((await s.requester.client.post(`/api/v1/access-requests/${body.id}/comments`, { body: 'eu-west-2b' })).status).toBe(201);
    const thread = await s.approver.client.get(`/api/v1/access-requests/${body.id}/comments`);
    expect(thread.body.map((c: { body: string; author: { id: string } }) => [c.author.id, c.body])).toEqual([
      [s.approver.id, 'Which replica?'],
      [s.requester.id, 'eu-west-2b'],
    ]);
    const denied = await s.approver.client.post(`/api/v1/access-requests/${body.id}/deny`, { comment: 'use the read replica' });
    expect(denied.body).toMatchObject({ status: 'denied', decision_comment: 'use the read replica', end_reason: 'manual' });
    const late = await s.requester.client.post(`/api/v1/access-requests/${body.id}/comments`, { body: 'please?' });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('request_closed');
    expect((await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {})).body.code).toBe('request_not_pending');
  });

  it('revokes early with a reason, recorded as manual', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
    expect((await s.approver.client.post(`/api/v1/access-requests/${body.id}/revoke`, {})).status).toBe(400);
    const revoked = await s.secondApprover.client.post(`/api/v1/access-requests/${body.id}/revoke`, { reason: 'incident closed' });
    expect(revoked.body).toMatchObject({ status: 'revoked', end_reason: 'manual', revoke_reason: 'incident closed', ended_by: { id: s.secondApprover.id } });
    expect(await liveGroupNames(s.requester.id)).not.toContain(`__access_req_${body.id}`);
    const events = await server().admin.get(`/api/v1/audit-events?request_id=${body.id}`);
    expect(events.body.items[0]).toMatchObject({ action: 'access_request.revoked', actor_id: s.secondApprover.id, data: { end_reason: 'manual', reason: 'incident closed' } });
  });

  it('auto-approves for members of the requester groups', async () => {
    const requesterGroup = (await server().admin.post('/api/v1/groups', { name: `on-call-${Date.now()}` })).body.id;
    await server().admin.request('PUT', `/api/v1/groups/${requesterGroup}/members/${s.requester.id}`, {});
    const templateId = await s.template({ auto_approve: true, requester_group_ids: [requesterGroup] });
    const res = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(res.body).toMatchObject({ status: 'approved', decided_by: null });
    const timeline = await s.requester.client.get(`/api/v1/access-requests/${res.body.id}/timeline`);
    expect(timeline.body.map((e: { action: string; actor_type: string }) => [e.action, e.actor_type])).toEqual([
      ['access_request.submitted', 'user'],
      ['access_request.approved', 'system'],
      ['access_request.activated', 'system'],
    ]);
    expect(timeline.body[1].data.auto).toBe(true);
    // Someone outside the requester groups cannot even see the template.
    expect((await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId))).status).toBe(404);
  });

  it('rejects bad submissions with the field named', async () => {
    const templateId = await s.template();
    const post = (body: unknown) => s.escalationMember.client.post('/api/v1/access-requests', body);
    const cases: [unknown, string][] = [
      [validRequest(templateId, { duration_mins: 61 }), 'duration_mins'],
      [validRequest(templateId, { justification: '   ' }), 'justification'],
      [validRequest(templateId, { fields: { env: 'prod' } }), 'fields.ticket'],
      [validRequest(templateId, { fields: { ticket: 'x', env: 'moon' } }), 'fields.env'],
      [validRequest(templateId, { fields: { ticket: 'x', read_only: 'yes' } }), 'fields.read_only'],
      [validRequest(templateId, { fields: { ticket: 'x', shoe_size: '44' } }), 'fields.shoe_size'],
      [validRequest(templateId, { duration_mins: 'long' }), 'duration_mins'],
      [{ ...validRequest(templateId), template_id: 'nope' }, 'template_id'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, `${field}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await post(validRequest('0190a0a0-0000-7000-8000-000000000000'))).status).toBe(404);
    await server().admin.patch(`/api/v1/access-request-templates/${templateId}`, { enabled: false });
    expect((await post(validRequest(templateId))).body.code).toBe('template_disabled');
  });

  it('reports every problem of a submission at once, naming an unknown field key', async () => {
    const templateId = await s.template({
      custom_fields: [
        { key: 'ticket', label: 'Incident ticket', type: 'text', required: true },
        { key: 'change', label: 'Change number', type: 'text', required: true },
      ],
    });
    const res = await s.escalationMember.client.post('/api/v1/access-requests', { template_id: templateId, duration_mins: 61, justification: '', fields: { shoe_size: '44' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['duration_mins', 'justification', 'fields.shoe_size', 'fields.ticket', 'fields.change']);
    expect(res.body.detail).toContain('fields.shoe_size: this template has no field "shoe_size"; its fields are ticket, change');
  });

  it('rate-limits submissions per user', async () => {
    const templates = await Promise.all(Array.from({ length: 11 }, () => s.template({ require_justification: false, custom_fields: [] })));
    const statuses: number[] = [];
    for (const templateId of templates) {
      statuses.push((await s.secondApprover.client.post('/api/v1/access-requests', { template_id: templateId, duration_mins: 60 })).status);
    }
    expect(statuses.slice(0, 10).every((st) => st === 201)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});
