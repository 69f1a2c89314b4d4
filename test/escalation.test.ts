import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createCore } from '../src/core.ts';
import { openDatabase } from '../src/db/database.ts';
import { announceExpiringGrants, escalateOverdueRequests } from '../src/modules/requests/due-notices.ts';
import { setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('escalation and expiring-soon notices', (server, dialect) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const events = async (id: string, action: string) =>
    (await server().app.core.db.selectFrom('audit_events').select('seq').where('request_id', '=', id).where('action', '=', action).execute()).length;

  it('escalates once after escalation_after_mins, even with several workers racing', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    vi.setSystemTime(Date.now() + 14 * 60_000);
    await server().app.runWorkerOnce();
    expect((await s.requester.client.get(`/api/v1/access-requests/${body.id}`)).body.escalated).toBe(false);

    vi.setSystemTime(Date.now() + 2 * 60_000);
    // On PostgreSQL a second instance with its own pool, as when two servers share it.
    // (better-sqlite3 is synchronous: two connections in one process would block each
    // other, and separate SQLite processes are covered by the kill test.)
    const second = dialect === 'postgres' ? openDatabase(server().config.database) : server().app.database;
    try {
      const other = createCore(second, server().app.core.clock, server().url, server().app.core.passwords);
      const results = await Promise.all([escalateOverdueRequests(server().app.core), escalateOverdueRequests(other), escalateOverdueRequests(server().app.core)]);
      expect(results.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      if (second !== server().app.database) await second.close();
    }
    expect(await events(body.id, 'access_request.escalated')).toBe(1);
    const detail = await s.escalationMember.client.get(`/api/v1/access-requests/${body.id}`);
    expect(detail.body).toMatchObject({ escalated: true, can_decide: true });
    // The escalation group is notified by the template's policy, and recorded as notified.
    const notices = await s.escalationMember.client.get('/api/v1/notifications');
    expect(notices.body.items.some((n: { kind: string; request_id: string }) => n.kind === 'access_request.escalated' && n.request_id === body.id)).toBe(true);
    expect(detail.body.notified_approvers.map((p: { id: string }) => p.id)).toContain(s.escalationMember.id);
    await server().app.runWorkerOnce();
    expect(await events(body.id, 'access_request.escalated')).toBe(1);
  });

  it('does not escalate a request decided in time, nor one whose template has no escalation', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const quiet = await s.template({ escalation_after_mins: null, escalation_group_id: null });
    const a = (await s.outsider.client.post('/api/v1/access-requests', validRequest(quiet))).body.id;
    const b = (await s.secondApprover.client.post('/api/v1/access-requests', validRequest(s.templateId))).body.id;
    await s.approver.client.post(`/api/v1/access-requests/${b}/deny`, {});
    vi.setSystemTime(Date.now() + 60 * 60_000);
    await server().app.runWorkerOnce();
    expect(await events(a, 'access_request.escalated')).toBe(0);
    expect(await events(b, 'access_request.escalated')).toBe(0);
  });

  it('announces expiring access once, at the configured lead time', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId, { duration_mins: 240 }));
    const approved = await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
    const expiresAt = Date.parse(approved.body.expires_at);
    vi.setSystemTime(expiresAt - 16 * 60_000);
    expect(await announceExpiringGrants(server().app.core, 15 * 60_000)).toBe(0);
    vi.setSystemTime(expiresAt - 14 * 60_000);
    expect(await announceExpiringGrants(server().app.core, 15 * 60_000)).toBe(1);
    expect(await announceExpiringGrants(server().app.core, 15 * 60_000)).toBe(0);
    expect(await events(body.id, 'access_request.expiring_soon')).toBe(1);
  });
});
