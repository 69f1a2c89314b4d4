import { beforeAll, expect, it } from 'vitest';
import { createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/** Deleting or disabling what a grant stands on ends the grant, with its own event. */
describeEachDialect('access requests: when what they stand on goes away', (server) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });

  const status = async (id: string) => (await server().admin.get(`/api/v1/access-requests/all?limit=200`)).body.items.find((r: { id: string }) => r.id === id);

  async function approvedAndPending(templateId: string, requester = s.requester) {
    const approved = (await requester.client.post('/api/v1/access-requests', validRequest(templateId))).body.id;
    await s.approver.client.post(`/api/v1/access-requests/${approved}/approve`, {});
    const second = await s.template();
    const pending = (await requester.client.post('/api/v1/access-requests', validRequest(second))).body.id;
    return { approved, pending, second };
  }

  it('revokes the grants and withdraws the requests of a disabled user', async () => {
    const carol = await createPerson(server(), 'carol');
    const { approved, pending } = await approvedAndPending(await s.template(), carol);
    expect((await server().admin.patch(`/api/v1/users/${carol.id}`, { disabled: true })).status).toBe(200);
    expect(await status(approved)).toMatchObject({ status: 'revoked', end_reason: 'manual', revoke_reason: 'the requester was disabled or deleted' });
    expect(await status(pending)).toMatchObject({ status: 'cancelled' });
    const groups = await server().app.core.db.selectFrom('groups').select('id').where('name', '=', `__access_req_${approved}`).execute();
    expect(groups).toEqual([]);
  });

  it('ends the requests of a disabled or deleted template, and frees its groups', async () => {
    const lonelyGroup = (await server().admin.post('/api/v1/groups', { name: `lonely-${Date.now()}` })).body.id;
    await server().admin.request('PUT', `/api/v1/groups/${lonelyGroup}/members/${s.approver.id}`, {});
    const templateId = await s.template({ approver_group_ids: [lonelyGroup] });
    const approved = (await s.outsider.client.post('/api/v1/access-requests', validRequest(templateId))).body.id;
    await s.approver.client.post(`/api/v1/access-requests/${approved}/approve`, {});
    expect((await server().admin.delete(`/api/v1/groups/${lonelyGroup}`)).status).toBe(409);

    expect((await server().admin.delete(`/api/v1/access-request-templates/${templateId}`)).status).toBe(204);
    expect(await status(approved)).toMatchObject({ status: 'revoked', revoke_reason: 'the template was disabled or deleted' });
    // The ended request stays readable for its requester, with nobody left to decide it.
    const detail = await s.outsider.client.get(`/api/v1/access-requests/${approved}`);
    expect(detail.body).toMatchObject({ status: 'revoked', can_decide: false });
    expect((await s.escalationMember.client.get(`/api/v1/access-requests/${approved}`)).status).toBe(404);
    expect((await server().admin.delete(`/api/v1/groups/${lonelyGroup}`)).status).toBe(204);

    const other = await s.template();
    const pending = (await s.outsider.client.post('/api/v1/access-requests', validRequest(other))).body.id;
    expect((await server().admin.patch(`/api/v1/access-request-templates/${other}`, { enabled: false })).status).toBe(200);
    expect(await status(pending)).toMatchObject({ status: 'cancelled' });
  });

  it('refuses to delete a mapping or application a live template grants, naming the templates', async () => {
    const mapping = await server().admin.delete(`/api/v1/mappings/${s.mappingId}`);
    expect(mapping.status).toBe(409);
    expect(mapping.body.code).toBe('mapping_in_use');
    expect(mapping.body.templates.length).toBeGreaterThan(0);
    const app = await server().admin.delete(`/api/v1/applications/${s.appId}`);
    expect(app.status).toBe(409);
    expect(app.body.code).toBe('application_in_use');
  });

  it('revokes a grant whose mapping is deleted after the template stopped granting it', async () => {
    const holder = (await server().admin.post('/api/v1/groups', { name: `holder-${Date.now()}` })).body.id;
    const extra = (await server().admin.post('/api/v1/mappings', { app_id: s.appId, claim: 'team', value: ['sre'], group_ids: [holder] })).body.id;
    const templateId = await s.template({ mapping_ids: [s.mappingId, extra] });
    const approved = (await s.secondApprover.client.post('/api/v1/access-requests', validRequest(templateId))).body.id;
    await s.approver.client.post(`/api/v1/access-requests/${approved}/approve`, {});
    expect((await server().admin.patch(`/api/v1/access-request-templates/${templateId}`, { mapping_ids: [s.mappingId] })).status).toBe(200);
    expect((await server().admin.delete(`/api/v1/mappings/${extra}`)).status).toBe(204);
    expect(await status(approved)).toMatchObject({ status: 'revoked', revoke_reason: 'a mapping the grant gives was deleted' });
  });
});
