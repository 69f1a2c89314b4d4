import { beforeAll, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/** Who may do what to a request, as a matrix of role × endpoint (DESIGN: who may do what). */
describeEachDialect('access requests: authorization matrix', (server) => {
  let s: AccessSetup;
  let pendingId: string;
  let approvedId: string;
  beforeAll(async () => {
    s = await setUpAccess(server());
    pendingId = (await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId))).body.id;
    const other = await s.template();
    approvedId = (await s.requester.client.post('/api/v1/access-requests', validRequest(other))).body.id;
    expect((await s.approver.client.post(`/api/v1/access-requests/${approvedId}/approve`, {})).status).toBe(200);
  });

  const role = (name: 'requester' | 'approver' | 'outsider' | 'admin'): Person => s[name];

  it.each([
    // [role, method, path suffix, body, expected status]
    ['outsider', 'GET', '', undefined, 404],
    ['outsider', 'GET', '/comments', undefined, 404],
    ['outsider', 'POST', '/comments', { body: 'hi' }, 404],
    ['outsider', 'GET', '/timeline', undefined, 404],
    ['outsider', 'POST', '/approve', {}, 404],
    ['outsider', 'POST', '/deny', {}, 404],
    ['outsider', 'POST', '/cancel', {}, 404],
    ['requester', 'GET', '', undefined, 200],
    ['requester', 'GET', '/timeline', undefined, 200],
    ['requester', 'POST', '/approve', {}, 403],
    ['requester', 'POST', '/deny', {}, 403],
    ['approver', 'GET', '', undefined, 200],
    ['approver', 'POST', '/cancel', {}, 403],
    ['admin', 'GET', '', undefined, 200],
    ['admin', 'GET', '/timeline', undefined, 200],
    // Admins are not approvers by virtue of being admins.
    ['admin', 'POST', '/approve', {}, 403],
    ['admin', 'POST', '/cancel', {}, 403],
  ] as const)('on a pending request, %s %s …%s → %i', async (who, method, suffix, body, expected) => {
    const res = await role(who).client.request(method, `/api/v1/access-requests/${pendingId}${suffix}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(expected);
  });

  it.each([
    ['outsider', 404],
    ['requester', 200],
  ] as const)('on an approved request, %s revoking → %i', async (who, expected) => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
    expect((await role(who).client.post(`/api/v1/access-requests/${body.id}/revoke`, { reason: 'x' })).status).toBe(expected);
  });

  it('lets an admin revoke any grant and list all grants; others may not list them', async () => {
    const all = await s.admin.client.get('/api/v1/access-requests/all?status=approved');
    expect(all.body.items.map((r: { id: string }) => r.id)).toContain(approvedId);
    expect((await s.approver.client.get('/api/v1/access-requests/all')).status).toBe(403);
    expect((await s.admin.client.post(`/api/v1/access-requests/${approvedId}/revoke`, { reason: 'audit finding' })).status).toBe(200);
  });

  it('on an open template lets anyone but the requester approve, but not revoke', async () => {
    const templateId = await s.template({ approval: 'open', approver_group_ids: [], escalation_after_mins: null, escalation_group_id: null });
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect((await s.outsider.client.get('/api/v1/access-requests/inbox')).body.items.map((r: { id: string }) => r.id)).toContain(body.id);
    expect((await s.requester.client.get('/api/v1/access-requests/inbox')).body.items.map((r: { id: string }) => r.id)).not.toContain(body.id);
    const own = await s.requester.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('own_request');
    expect(own.body.detail).toContain('your own request');
    const ownDenial = await s.requester.client.post(`/api/v1/access-requests/${body.id}/deny`, {});
    expect([ownDenial.status, ownDenial.body.code]).toEqual([403, 'own_request']);
    expect((await s.outsider.client.post(`/api/v1/access-requests/${body.id}/approve`, {})).status).toBe(200);
    expect((await s.escalationMember.client.post(`/api/v1/access-requests/${body.id}/revoke`, { reason: 'x' })).status).toBe(403);
  });

  it('lets the escalation group decide only once the request has escalated', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect((await s.escalationMember.client.get('/api/v1/access-requests/inbox')).body.items.map((r: { id: string }) => r.id)).not.toContain(body.id);
    expect((await s.escalationMember.client.post(`/api/v1/access-requests/${body.id}/approve`, {})).status).toBe(404);
    await server().app.core.db.updateTable('access_requests').set({ escalated: 1, escalated_at: Date.now() }).where('id', '=', body.id).execute();
    expect((await s.escalationMember.client.get('/api/v1/access-requests/inbox')).body.items.map((r: { id: string }) => r.id)).toContain(body.id);
    expect((await s.escalationMember.client.post(`/api/v1/access-requests/${body.id}/approve`, {})).status).toBe(200);
  });

  it('shows approvers what they decide from, and the requester only their own', async () => {
    const detail = await s.approver.client.get(`/api/v1/access-requests/${pendingId}`);
    expect(detail.body.requester).toMatchObject({ id: s.requester.id });
    expect(Array.isArray(detail.body.requester_groups)).toBe(true);
    expect(detail.body.fields).toEqual({ ticket: 'INC-1234', env: 'prod' });
    const mine = await s.outsider.client.get('/api/v1/access-requests');
    expect(mine.body.items.every((r: { requester: { id: string } }) => r.requester.id === s.outsider.id)).toBe(true);
    const decided = await s.approver.client.get('/api/v1/access-requests/decided');
    expect(decided.body.items.map((r: { id: string }) => r.id)).toContain(approvedId);
  });

  it('needs a caller for every endpoint', async () => {
    const anonymous = new ApiClient(server().url);
    for (const [method, path] of [
      ['GET', '/api/v1/access-requests'],
      ['POST', '/api/v1/access-requests'],
      ['GET', '/api/v1/access-requests/inbox'],
      ['GET', `/api/v1/access-requests/${pendingId}`],
      ['POST', `/api/v1/access-requests/${pendingId}/approve`],
      ['POST', `/api/v1/access-requests/${pendingId}/comments`],
    ] as const) {
      expect((await anonymous.request(method, path, method === 'POST' ? {} : undefined)).status, `${method} ${path}`).toBe(401);
    }
  });
});
