import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const MISSING = '01972f4e-8c1a-7b3e-9a10-0123456789ab';
const uuid = (i: number) => `01972f4e-8c1a-7b3e-9a10-${String(i).padStart(12, '0')}`;

type Result = { request_id: string; outcome: string; status?: string; error?: { code: string; detail: string } };

/** Bulk decisions and bulk revocation (issue 14 §4): each item is a single call, answered on its own. */
describeEachDialect('bulk decisions and bulk revoke', (server) => {
  let s: AccessSetup;
  let bulkTemplate: string;
  let plainTemplate: string;
  beforeAll(async () => {
    s = await setUpAccess(server());
    bulkTemplate = await s.template({ allow_bulk_decisions: true, escalation_after_mins: null, escalation_group_id: null });
    plainTemplate = await s.template({ escalation_after_mins: null, escalation_group_id: null });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const db = () => server().app.core.db;
  const row = (id: string) => db().selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const events = async (id: string) =>
    (await db().selectFrom('audit_events').select('action').where('request_id', '=', id).orderBy('seq').execute()).map((e) => e.action).filter((a) => a.startsWith('access_request.'));
  const bulkDecide = (who: Person, body: unknown) => who.client.post('/api/v1/access-requests/bulk-decisions', body);
  const bulkRevoke = (who: Person, body: unknown) => who.client.post('/api/v1/access-requests/bulk-revoke', body);

  /** `n` fresh requesters, each with a pending request of `templateId` (one open request per template and person). */
  async function pending(templateId: string, n: number): Promise<string[]> {
    const people = await Promise.all(Array.from({ length: n }, (_, i) => createPerson(server(), `bulk-requester-${i}`)));
    return Promise.all(
      people.map(async (p) => {
        const res = await p.client.post('/api/v1/access-requests', validRequest(templateId));
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return res.body.id as string;
      }),
    );
  }

  /** `n` approved grants of the bulk template. */
  async function grants(n: number): Promise<string[]> {
    const ids = await pending(bulkTemplate, n);
    for (const id of ids) expect((await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, {})).status).toBe(200);
    return ids;
  }

  it('allow_bulk_decisions: false by default, set on create and PATCH, read back, typed', async () => {
    const plain = await server().admin.get(`/api/v1/access-request-templates/${plainTemplate}`);
    expect(plain.body.allow_bulk_decisions).toBe(false);
    const bulk = await server().admin.get(`/api/v1/access-request-templates/${bulkTemplate}`);
    expect(bulk.body.allow_bulk_decisions).toBe(true);
    const id = await s.template();
    const on = await server().admin.patch(`/api/v1/access-request-templates/${id}`, { allow_bulk_decisions: true });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.allow_bulk_decisions).toBe(true);
    expect((await server().admin.get(`/api/v1/access-request-templates/${id}`)).body.allow_bulk_decisions).toBe(true);
    const wrong = await server().admin.patch(`/api/v1/access-request-templates/${id}`, { allow_bulk_decisions: 'yes' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors.map((e: { field: string }) => e.field)).toEqual(['allow_bulk_decisions']);
  });

  it('the inbox says which rows may be decided in bulk', async () => {
    const [bulkId] = await pending(bulkTemplate, 1);
    const [plainId] = await pending(plainTemplate, 1);
    const inbox = await s.approver.client.get('/api/v1/access-requests/inbox?limit=200');
    expect(inbox.status).toBe(200);
    const flag = (id: string) => inbox.body.items.find((r: { id: string }) => r.id === id)?.allow_bulk_decisions;
    expect(flag(bulkId!)).toBe(true);
    expect(flag(plainId!)).toBe(false);
  });

  it.each([
    ['an empty list', { decision: 'approve', request_ids: [] }, 'request_ids'],
    ['51 requests', { decision: 'approve', request_ids: Array.from({ length: 51 }, (_, i) => uuid(i)) }, 'request_ids'],
    ['a request twice', { decision: 'approve', request_ids: [uuid(1), uuid(1)] }, 'request_ids'],
    ['an id that is not a uuid', { decision: 'approve', request_ids: [uuid(1), 'not-a-uuid'] }, 'request_ids.1'],
    ['no list', { decision: 'approve' }, 'request_ids'],
    ['an unknown decision', { decision: 'maybe', request_ids: [uuid(1)] }, 'decision'],
    ['a comment too long', { decision: 'deny', comment: 'x'.repeat(4001), request_ids: [uuid(1)] }, 'comment'],
  ])('bulk-decisions refuses %s with 400 naming the field', async (_name, body, field) => {
    const res = await bulkDecide(s.approver, body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each([
    ['an empty list', { reason: 'offboarding', request_ids: [] }, 'request_ids'],
    ['51 requests', { reason: 'offboarding', request_ids: Array.from({ length: 51 }, (_, i) => uuid(i)) }, 'request_ids'],
    ['a request twice', { reason: 'offboarding', request_ids: [uuid(2), uuid(2)] }, 'request_ids'],
    ['an id that is not a uuid', { reason: 'offboarding', request_ids: ['42'] }, 'request_ids.0'],
    ['no reason', { request_ids: [uuid(1)] }, 'reason'],
    ['a blank reason', { reason: '   ', request_ids: [uuid(1)] }, 'reason'],
  ])('bulk-revoke refuses %s with 400 naming the field', async (_name, body, field) => {
    const res = await bulkRevoke(s.admin, body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('401 signed out, 403 without the CSRF token', async () => {
    const [id] = await pending(bulkTemplate, 1);
    for (const [path, body] of [
      ['bulk-decisions', { decision: 'approve', request_ids: [id] }],
      ['bulk-revoke', { reason: 'r', request_ids: [id] }],
    ] as const) {
      const url = `${server().url}/api/v1/access-requests/${path}`;
      const anonymous = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(anonymous.status).toBe(401);
      const noCsrf = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', cookie: s.approver.client.cookieHeader }, body: JSON.stringify(body) });
      expect(noCsrf.status).toBe(403);
    }
    expect((await row(id!)).status).toBe('pending');
  });

  it('approves each eligible request and refuses the rest item by item, in the order given', async () => {
    const [a, b] = await pending(bulkTemplate, 2);
    const [plain] = await pending(plainTemplate, 1);
    // The approver's own request on the bulk template.
    const own = await s.approver.client.post('/api/v1/access-requests', validRequest(bulkTemplate));
    expect(own.status).toBe(201);
    const [decidedAlready] = await pending(bulkTemplate, 1);
    expect((await s.secondApprover.client.post(`/api/v1/access-requests/${decidedAlready}/deny`, {})).status).toBe(200);

    const ids = [a!, plain!, own.body.id as string, MISSING, decidedAlready!, b!];
    const res = await bulkDecide(s.approver, { decision: 'approve', comment: 'on-call rota', request_ids: ids });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const results = res.body.results as Result[];
    expect(results.map((r) => r.request_id)).toEqual(ids);
    expect(results.map((r) => [r.outcome, r.status ?? r.error?.code])).toEqual([
      ['approved', 'approved'],
      ['refused', 'bulk_not_allowed'],
      ['refused', 'own_request'],
      ['refused', 'not_found'],
      ['refused', expect.any(String)],
      ['approved', 'approved'],
    ]);
    expect(results[4]!.error!.detail).not.toBe('');
    expect((await row(a!)).decision_comment).toBe('on-call rota');
    expect((await row(plain!)).status).toBe('pending');
    expect((await row(own.body.id)).status).toBe('pending');
    expect((await events(a!)).filter((e) => e !== 'access_request.activated')).toEqual(['access_request.submitted', 'access_request.approved']);
    // The single call still decides the plain template's request.
    expect((await s.approver.client.post(`/api/v1/access-requests/${plain}/approve`, {})).status).toBe(200);
    await s.approver.client.post(`/api/v1/access-requests/${own.body.id}/cancel`, {});
  });

  it('denies with one comment; whoever may not decide is refused per item (not_found), nothing changes', async () => {
    const ids = await pending(bulkTemplate, 2);
    const outsider = await bulkDecide(s.outsider, { decision: 'deny', request_ids: ids });
    expect(outsider.status).toBe(200);
    expect((outsider.body.results as Result[]).map((r) => [r.outcome, r.error?.code])).toEqual([
      ['refused', 'not_found'],
      ['refused', 'not_found'],
    ]);
    // An admin is no approver by virtue of being admin: may see, may not decide.
    const admin = await bulkDecide(s.admin, { decision: 'deny', request_ids: ids });
    expect((admin.body.results as Result[]).map((r) => r.error?.code)).toEqual(['forbidden', 'forbidden']);
    const denied = await bulkDecide(s.approver, { decision: 'deny', comment: 'not during the freeze', request_ids: ids });
    expect((denied.body.results as Result[]).map((r) => [r.outcome, r.status])).toEqual([
      ['denied', 'denied'],
      ['denied', 'denied'],
    ]);
    for (const id of ids) {
      expect(await row(id)).toMatchObject({ status: 'denied', decision_comment: 'not during the freeze', decided_by: s.approver.id });
      expect(await events(id)).toEqual(['access_request.submitted', 'access_request.denied']);
    }
  });

  it('respects stages and quorum: a bulk approval is one vote', async () => {
    const twoVotes = await s.template({ allow_bulk_decisions: true, approver_group_ids: undefined, escalation_after_mins: undefined, escalation_group_id: undefined, stages: [{ approval: 'groups', approver_group_ids: [s.approverGroupId], quorum: 2 }] });
    const ids = await pending(twoVotes, 2);
    const first = await bulkDecide(s.approver, { decision: 'approve', request_ids: ids });
    expect((first.body.results as Result[]).map((r) => [r.outcome, r.status])).toEqual([
      ['approved', 'pending'],
      ['approved', 'pending'],
    ]);
    const again = await bulkDecide(s.approver, { decision: 'approve', request_ids: ids });
    expect((again.body.results as Result[]).every((r) => r.outcome === 'refused')).toBe(true);
    const second = await bulkDecide(s.secondApprover, { decision: 'approve', request_ids: ids });
    expect((second.body.results as Result[]).map((r) => [r.outcome, r.status])).toEqual([
      ['approved', 'approved'],
      ['approved', 'approved'],
    ]);
  });

  it('revokes through the single revoke path: admin any, an approver-group member too, others refused per item', async () => {
    const [g1, g2, g3] = await grants(3);
    const [stillPending] = await pending(bulkTemplate, 1);
    const outsider = await bulkRevoke(s.outsider, { reason: 'cleanup', request_ids: [g1, g2] });
    expect((outsider.body.results as Result[]).map((r) => r.error?.code)).toEqual(['not_found', 'not_found']);
    const res = await bulkRevoke(s.admin, { reason: 'offboarding Friday', request_ids: [g1, stillPending, MISSING, g2] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((res.body.results as Result[]).map((r) => [r.outcome, r.status ?? r.error?.code])).toEqual([
      ['revoked', 'revoked'],
      ['refused', expect.any(String)],
      ['refused', 'not_found'],
      ['revoked', 'revoked'],
    ]);
    for (const id of [g1!, g2!]) {
      expect(await row(id)).toMatchObject({ status: 'revoked', revoke_reason: 'offboarding Friday', ended_by: s.admin.id });
      expect((await events(id)).filter((e) => e !== 'access_request.activated')).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.revoked']);
      // The grant's system group goes, as with a single revoke.
      expect(await db().selectFrom('groups').select('id').where('name', '=', `__access_req_${id}`).executeTakeFirst()).toBeUndefined();
    }
    expect((await row(stillPending!)).status).toBe('pending');
    // The approver group's members may revoke too.
    const approver = await bulkRevoke(s.approver, { reason: 'done', request_ids: [g3] });
    expect((approver.body.results as Result[])[0]).toMatchObject({ outcome: 'revoked', status: 'revoked' });
  });

  it('concurrent: a bulk approve racing single approvals and denials decides each request exactly once', async () => {
    const ids = await pending(bulkTemplate, 8);
    const singles = ids.map((id, i) => s.secondApprover.client.post(`/api/v1/access-requests/${id}/${i % 2 === 0 ? 'approve' : 'deny'}`, {}));
    const [bulk, otherBulk, ...single] = await Promise.all([
      bulkDecide(s.approver, { decision: 'approve', request_ids: ids }),
      bulkDecide(s.escalationMember, { decision: 'deny', request_ids: [...ids].reverse() }),
      ...singles,
    ]);
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(200);
    expect(otherBulk.status).toBe(200);
    const bulkResults = new Map((bulk.body.results as Result[]).map((r) => [r.request_id, r]));
    for (const [i, id] of ids.entries()) {
      const final = await row(id);
      const decisions = (await events(id)).filter((a) => a === 'access_request.approved' || a === 'access_request.denied');
      expect(decisions, `request ${i}`).toHaveLength(1);
      const byBulk = bulkResults.get(id)!;
      const bySingle = single[i]!;
      // Exactly one of the two won; the loser was told, and the row says who won.
      expect([byBulk.outcome === 'approved', bySingle.status === 200].filter(Boolean), `request ${i}`).toHaveLength(1);
      if (byBulk.outcome === 'approved') {
        expect(final).toMatchObject({ status: 'approved', decided_by: s.approver.id });
        expect(bySingle.status).toBe(409);
      } else {
        expect(final).toMatchObject({ status: i % 2 === 0 ? 'approved' : 'denied', decided_by: s.secondApprover.id });
        expect(byBulk.error?.code).toBeTruthy();
      }
      // The escalation member may not decide (not escalated): refused, never a third decision.
      expect((otherBulk.body.results as Result[]).find((r) => r.request_id === id)!.outcome).toBe('refused');
    }
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true });
  });

  it('concurrent: a bulk revoke racing single revokes and expiry ends each grant exactly once', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const ids = await grants(8);
    const expiresAt = Math.max(...(await Promise.all(ids.map(async (id) => (await row(id)).expires_at!))));
    vi.setSystemTime(expiresAt + 1000);
    const [bulk, expired, ...single] = await Promise.all([
      bulkRevoke(s.admin, { reason: 'incident closed', request_ids: ids }),
      server().app.services.requests.expireDueGrants(2),
      ...ids.slice(0, 4).map((id) => s.approver.client.post(`/api/v1/access-requests/${id}/revoke`, { reason: 'mine' })),
    ]);
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(200);
    const results = bulk.body.results as Result[];
    let expiredHere = 0;
    for (const [i, id] of ids.entries()) {
      const final = await row(id);
      const endings = (await events(id)).filter((a) => a === 'access_request.revoked' || a === 'access_request.expired');
      expect(endings, `grant ${i}`).toHaveLength(1);
      expect(['revoked', 'expired']).toContain(final.status);
      const winners = [results[i]!.outcome === 'revoked', i < 4 && single[i]!.status === 200].filter(Boolean).length;
      expect(winners, `grant ${i}`).toBe(final.status === 'revoked' ? 1 : 0);
      if (final.status === 'expired') expiredHere++;
    }
    // Expiry counts only the grants it ended (other tests' grants are due too).
    expect(expired).toBeGreaterThanOrEqual(expiredHere);
    expect(await verifyAuditChain(db())).toMatchObject({ ok: true });
  });
});
