import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/** Concurrent callers against the real database: exactly one wins, the others get 409. */
describeEachDialect('access requests under races', (server) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const auditCount = async (id: string, action: string) =>
    (await server().app.core.db.selectFrom('audit_events').select('seq').where('request_id', '=', id).where('action', '=', action).execute()).length;

  it('lets only one of many concurrent submissions through', async () => {
    const templateId = await s.template();
    const results = await Promise.all(Array.from({ length: 6 }, () => s.requester.client.post('/api/v1/access-requests', validRequest(templateId))));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.existing_request_id).toBe(created[0]!.body.id);
    }
  });

  it('lets exactly one of two approvers decide', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    const [a, b] = await Promise.all([
      s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {}),
      s.secondApprover.client.post(`/api/v1/access-requests/${body.id}/deny`, { comment: 'no' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect(await auditCount(body.id, 'access_request.approved') + (await auditCount(body.id, 'access_request.denied'))).toBe(1);
    const groups = await server().app.core.db.selectFrom('groups').select('id').where('name', '=', `__access_req_${body.id}`).execute();
    expect(groups).toHaveLength(a.status === 200 ? 1 : 0);
  });

  it('never grants twice when the same approver double-clicks', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    const results = await Promise.all(Array.from({ length: 4 }, () => s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {})));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(3);
    expect(await auditCount(body.id, 'access_request.approved')).toBe(1);
  });

  it('settles approve against cancel one way', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    const [approve, cancel] = await Promise.all([
      s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {}),
      s.requester.client.post(`/api/v1/access-requests/${body.id}/cancel`, {}),
    ]);
    expect([approve.status, cancel.status].sort()).toEqual([200, 409]);
    const final = (await s.requester.client.get(`/api/v1/access-requests/${body.id}`)).body.status;
    expect(final).toBe(approve.status === 200 ? 'approved' : 'cancelled');
  });

  it('ends a grant once when revocation and expiry meet', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.parse(approved.body.expires_at) + 1);
    const [revoke] = await Promise.all([
      s.approver.client.post(`/api/v1/access-requests/${body.id}/revoke`, { reason: 'done' }),
      server().app.services.requests.expireDueGrants(),
    ]);
    const final = (await s.requester.client.get(`/api/v1/access-requests/${body.id}`)).body;
    if (revoke.status === 200) {
      expect(final.status).toBe('revoked');
      // Counted for this request only: the pass may also expire grants earlier tests left due.
      expect(await auditCount(body.id, 'access_request.expired')).toBe(0);
    } else {
      expect(revoke.status).toBe(409);
      expect(final).toMatchObject({ status: 'expired', end_reason: 'automatic' });
    }
    expect((await auditCount(body.id, 'access_request.revoked')) + (await auditCount(body.id, 'access_request.expired'))).toBe(1);
  });

  it('clears many grants expiring at the same instant in one pass, and keeps the chain whole', async () => {
    const templateId = await s.template({ require_justification: false, custom_fields: [] });
    const people = await Promise.all(Array.from({ length: 12 }, (_, i) => createPerson(server(), `bulk${i}`)));
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: false });
    const ids: string[] = [];
    for (const p of people) {
      const { body } = await p.client.post('/api/v1/access-requests', { template_id: templateId, duration_mins: 60 });
      await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
      ids.push(body.id);
    }
    vi.setSystemTime(Date.now() + 60 * 60_000);
    expect(await server().app.services.requests.expireDueGrants(5)).toBe(12);
    const statuses = await server().app.core.db.selectFrom('access_requests').select('status').where('id', 'in', ids).execute();
    expect(statuses.every((r) => r.status === 'expired')).toBe(true);
    expect((await verifyAuditChain(server().app.core.db)).ok).toBe(true);
  });
});
