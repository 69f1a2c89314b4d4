import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { effectiveClaims, effectiveClaimsOfUsers } from '../src/modules/claims/claims.repo.ts';
import type { SignalPayload } from '../src/modules/event-payload/signal-payload.types.ts';
import { createGroup, createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const MIN = 60_000;
const REQUESTS = '/api/v1/access-requests';

/**
 * Issue 13: every path that changes a user's effective claims for an application records
 * exactly one `signal.claims_changed` outbox row per (user, application), in its own
 * transaction, carrying the claims that now hold; paths that change no claims record none.
 * Each path is driven through the HTTP API or the worker; the outbox is read as it is.
 */
describeEachDialect('claims_changed signals, path by path', (server) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Every claims_changed row so far, oldest first. */
  const claimsSignals = async (): Promise<SignalPayload[]> =>
    (await server().app.core.db.selectFrom('outbox_events').select(['payload']).where('type', '=', 'signal.claims_changed').orderBy('id').execute()).map(
      (r) => JSON.parse(r.payload) as SignalPayload,
    );
  /** Runs `work`, then answers the claims_changed rows it added. */
  async function recorded(work: () => Promise<unknown>): Promise<SignalPayload[]> {
    const seen = new Set((await claimsSignals()).map((p) => p.id));
    await work();
    return (await claimsSignals()).filter((p) => !seen.has(p.id));
  }
  const pairs = (signals: SignalPayload[]) => signals.map((p) => `${p.subject.user_id}|${p.app_id}`).sort();
  const ok = (res: { status: number; body: unknown }, status = 200) => expect(res.status, JSON.stringify(res.body)).toBe(status);

  async function app(name: string) {
    const res = await server().admin.post('/api/v1/applications', { name: `${name}-${Math.random().toString(36).slice(2)}`, redirect_uris: ['http://127.0.0.1:9/callback'], first_party: true });
    ok(res, 201);
    return res.body.id as string;
  }
  async function mapping(appId: string, groupIds: string[], claim = 'role', value: unknown = 'viewer') {
    const res = await server().admin.post('/api/v1/mappings', { app_id: appId, claim, value, group_ids: groupIds });
    ok(res, 201);
    return res.body.id as string;
  }
  const member = (groupId: string, userId: string, body: Record<string, unknown> = {}) => server().admin.request('PUT', `/api/v1/groups/${groupId}/members/${userId}`, body);
  const unmember = (groupId: string, userId: string) => server().admin.request('DELETE', `/api/v1/groups/${groupId}/members/${userId}`);

  /** Submits for `templateId` as `who` and has the approver approve it; answers the request id. */
  async function grant(templateId: string, who: Person, extra: Record<string, unknown> = {}) {
    const submitted = await who.client.post(REQUESTS, validRequest(templateId, extra));
    ok(submitted, 201);
    ok(await s.approver.client.post(`${REQUESTS}/${submitted.body.id}/approve`, {}));
    return submitted.body.id as string;
  }

  it('approval that opens the grant records one (activated), with the claims that now hold; a scheduled approval records none until the window opens', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const who = await createPerson(server(), 'grantee');
    const templateId = await s.template();
    const now = await recorded(() => grant(templateId, who));
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ subject: { user_id: who.id, email: who.email }, app_id: s.appId, claims: { role: 'prod-admin' }, grant_ended: false, initiator: 'admin' });

    const later = await createPerson(server(), 'scheduled');
    const scheduledTemplate = await s.template({ max_start_delay_mins: 24 * 60 });
    const startsAt = Math.ceil((Date.now() + 30 * MIN) / 1000) * 1000;
    expect(await recorded(() => grant(scheduledTemplate, later, { starts_at: new Date(startsAt).toISOString() }))).toEqual([]);
    vi.setSystemTime(startsAt + 1_000);
    const opened = await recorded(async () => {
      await server().app.runWorkerOnce();
      await server().app.runWorkerOnce();
    });
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ subject: { user_id: later.id }, app_id: s.appId, claims: { role: 'prod-admin' }, grant_ended: false, initiator: 'system' });
  });

  it('extension and break-glass activation each record one', async () => {
    const who = await createPerson(server(), 'extender');
    const extendable = await s.template({ allowed_durations: [60, 120], allow_extension: true, max_total_mins: 180 });
    const id = await grant(extendable, who);
    const asked = await who.client.post(`${REQUESTS}/${id}/extensions`, { duration_mins: 60, justification: 'INC-1234 still open' });
    ok(asked, 201);
    const extended = await recorded(async () => ok(await s.approver.client.post(`${REQUESTS}/${asked.body.id}/approve`, {})));
    expect(extended).toHaveLength(1);
    expect(extended[0]).toMatchObject({ subject: { user_id: who.id }, app_id: s.appId, claims: { role: 'prod-admin' }, grant_ended: false });

    const responders = await createGroup(server(), 'responders');
    const responder = await createPerson(server(), 'responder');
    expect((await member(responders, responder.id)).status).toBeLessThan(300);
    const glass = await s.template({ requester_group_ids: [responders], break_glass: true, break_glass_max_mins: 60, break_glass_review_mins: 120, custom_fields: [] });
    const broke = await recorded(async () => ok(await responder.client.post(`${REQUESTS}/break-glass`, { template_id: glass, justification: 'INC-9: primary down', duration_mins: 30 }), 201));
    expect(broke).toHaveLength(1);
    expect(broke[0]).toMatchObject({ subject: { user_id: responder.id }, app_id: s.appId, claims: { role: 'prod-admin' }, grant_ended: false, initiator: 'user' });
  });

  it('a revocation records one with grant_ended, two concurrent revocations of the same grant still one', async () => {
    const who = await createPerson(server(), 'revokee');
    const id = await grant(await s.template(), who);
    const revoked = await recorded(() =>
      Promise.all([
        s.approver.client.post(`${REQUESTS}/${id}/revoke`, { reason: 'incident closed' }),
        s.secondApprover.client.post(`${REQUESTS}/${id}/revoke`, { reason: 'incident closed' }),
      ]).then((answers) => expect(answers.map((a) => a.status).sort()).toEqual([200, 409])),
    );
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ subject: { user_id: who.id }, app_id: s.appId, claims: {}, grant_ended: true, initiator: 'admin' });
    expect(revoked[0]!.reason).toContain('incident closed');
  });

  it('the worker expiring a chunk of grants records one per (user, application)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const [a, b, c] = await Promise.all([createPerson(server(), 'exp-a'), createPerson(server(), 'exp-b'), createPerson(server(), 'exp-c')]);
    const [t1, t2] = [await s.template(), await s.template()];
    // a holds two grants of the same application; b and c one each.
    for (const [who, t] of [[a, t1], [a, t2], [b, t1], [c, t1]] as const) await grant(t, who);
    vi.setSystemTime(Date.now() + 61 * MIN);
    // Grants of the earlier tests expire in the same run; these three users' are counted.
    const ours = new Set([a, b, c].map((p) => p.id));
    const expired = (await recorded(() => server().app.runWorkerOnce())).filter((p) => ours.has(p.subject.user_id));
    expect(pairs(expired)).toEqual([a, b, c].map((p) => `${p.id}|${s.appId}`).sort());
    for (const signal of expired) expect(signal).toMatchObject({ claims: {}, grant_ended: false, initiator: 'system' });
  });

  it('retiring a template records one per grantee; disabling a user whose grants end records none (the account signals say it)', async () => {
    const [a, b, quiet] = await Promise.all([createPerson(server(), 'ret-a'), createPerson(server(), 'ret-b'), createPerson(server(), 'disabled')]);
    const templateId = await s.template();
    await grant(templateId, a);
    await grant(templateId, b);
    const retired = await recorded(async () => ok(await server().admin.request('PATCH', `/api/v1/access-request-templates/${templateId}`, { enabled: false })));
    expect(pairs(retired)).toEqual([a, b].map((p) => `${p.id}|${s.appId}`).sort());
    for (const signal of retired) expect(signal).toMatchObject({ claims: {}, grant_ended: true });

    const other = await s.template();
    await grant(other, quiet);
    const disabled = await recorded(async () => ok(await server().admin.patch(`/api/v1/users/${quiet.id}`, { disabled: true })));
    expect(disabled).toEqual([]);
    expect((await server().app.core.db.selectFrom('access_requests').select('status').where('requester_id', '=', quiet.id).executeTakeFirstOrThrow()).status).toBe('revoked');
  });

  it('membership add and remove record one only when the claims change; a group that feeds nothing records none; concurrent removals one', async () => {
    const appId = await app('members');
    const [feeding, alsoFeeding, feedsNothing] = [await createGroup(server(), 'feeding'), await createGroup(server(), 'also'), await createGroup(server(), 'nothing')];
    await mapping(appId, [feeding, alsoFeeding], 'role', 'viewer');
    const who = await createPerson(server(), 'member');

    const added = await recorded(async () => expect((await member(feeding, who.id)).status).toBeLessThan(300));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ subject: { user_id: who.id }, app_id: appId, claims: { role: 'viewer' }, grant_ended: false, initiator: 'admin' });
    // The same claims through a second group, an expiry alone, a group feeding no app: nothing changes.
    expect(await recorded(async () => expect((await member(alsoFeeding, who.id)).status).toBeLessThan(300))).toEqual([]);
    expect(await recorded(async () => ok(await member(feeding, who.id, { expires_at: new Date(Date.now() + 60 * MIN).toISOString() })))).toEqual([]);
    expect(await recorded(async () => expect((await member(feedsNothing, who.id)).status).toBeLessThan(300))).toEqual([]);
    expect(await recorded(async () => ok(await unmember(feedsNothing, who.id), 204))).toEqual([]);
    expect(await recorded(async () => ok(await unmember(alsoFeeding, who.id), 204))).toEqual([]);

    const removed = await recorded(async () => {
      const answers = await Promise.all([unmember(feeding, who.id), unmember(feeding, who.id)]);
      expect(answers.map((a) => a.status).sort()).toEqual([204, 404]);
    });
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatchObject({ subject: { user_id: who.id }, app_id: appId, claims: {}, grant_ended: false });
  });

  it('deleting a group records one per member and application it fed', async () => {
    const [appA, appB] = [await app('group-a'), await app('group-b')];
    const group = await createGroup(server(), 'doomed');
    await mapping(appA, [group], 'role', 'a');
    await mapping(appB, [group], 'tier', 'gold');
    await mapping(appB, [group], 'team', ['x', 'y']);
    const [m1, m2] = await Promise.all([createPerson(server(), 'g1'), createPerson(server(), 'g2')]);
    for (const p of [m1, m2]) expect((await member(group, p.id)).status).toBeLessThan(300);
    const deleted = await recorded(async () => ok(await server().admin.request('DELETE', `/api/v1/groups/${group}`), 204));
    expect(pairs(deleted)).toEqual([`${m1.id}|${appA}`, `${m1.id}|${appB}`, `${m2.id}|${appA}`, `${m2.id}|${appB}`].sort());
    for (const signal of deleted) expect(signal.claims).toEqual({});
  });

  it('mapping create, update and delete record one per member whose claims change', async () => {
    const appId = await app('mappings');
    const [group, bystanders] = [await createGroup(server(), 'mapped'), await createGroup(server(), 'bystanders')];
    const [in1, in2, out] = await Promise.all([createPerson(server(), 'in1'), createPerson(server(), 'in2'), createPerson(server(), 'out')]);
    for (const p of [in1, in2]) expect((await member(group, p.id)).status).toBeLessThan(300);
    expect((await member(bystanders, out.id)).status).toBeLessThan(300);

    let mappingId = '';
    const created = await recorded(async () => {
      mappingId = await mapping(appId, [group], 'role', 'reader');
    });
    expect(pairs(created)).toEqual([in1, in2].map((p) => `${p.id}|${appId}`).sort());
    for (const signal of created) expect(signal.claims).toEqual({ role: 'reader' });

    const description = await recorded(async () => ok(await server().admin.patch(`/api/v1/mappings/${mappingId}`, { description: 'no claim changes' })));
    expect(description).toEqual([]);
    const changed = await recorded(async () => ok(await server().admin.patch(`/api/v1/mappings/${mappingId}`, { value: 'writer', group_ids: [group, bystanders] })));
    expect(pairs(changed)).toEqual([in1, in2, out].map((p) => `${p.id}|${appId}`).sort());
    for (const signal of changed) expect(signal.claims).toEqual({ role: 'writer' });

    const deleted = await recorded(async () => ok(await server().admin.request('DELETE', `/api/v1/mappings/${mappingId}`), 204));
    expect(pairs(deleted)).toEqual([in1, in2, out].map((p) => `${p.id}|${appId}`).sort());
    for (const signal of deleted) expect(signal).toMatchObject({ claims: {}, grant_ended: false });
  });

  it('deleting a mapping a grant still gives tells its holder once, grant_ended, even when a group gave it too', async () => {
    const appId = await app('held');
    const holders = await createGroup(server(), 'holders');
    const kept = await mapping(appId, [await createGroup(server(), 'nobody-here')], 'role', 'kept');
    const doomed = await mapping(appId, [holders], 'role', 'doomed');
    const who = await createPerson(server(), 'both');
    expect((await member(holders, who.id)).status).toBeLessThan(300);
    const created = await server().admin.post('/api/v1/access-request-templates', {
      name: `held-${Math.random().toString(36).slice(2)}`,
      description: 'grants the doomed mapping',
      app_id: appId,
      mapping_ids: [doomed],
      allowed_durations: [60],
      approver_group_ids: [s.approverGroupId],
      require_justification: false,
    });
    ok(created, 201);
    await grant(created.body.id, who, { fields: {} });
    // The template moves to another mapping: the live grant still links the doomed one.
    ok(await server().admin.request('PATCH', `/api/v1/access-request-templates/${created.body.id}`, { mapping_ids: [kept] }));
    const deleted = await recorded(async () => ok(await server().admin.request('DELETE', `/api/v1/mappings/${doomed}`), 204));
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ subject: { user_id: who.id }, app_id: appId, claims: {}, grant_ended: true });
  });

  it('deleting an application records one per user it gave claims to; nothing for who had none', async () => {
    const appId = await app('deleted');
    const [group, empty] = [await createGroup(server(), 'app-holders'), await createGroup(server(), 'app-nothing')];
    await mapping(appId, [group], 'role', 'user');
    const [holder, other] = await Promise.all([createPerson(server(), 'holder'), createPerson(server(), 'other')]);
    expect((await member(group, holder.id)).status).toBeLessThan(300);
    expect((await member(empty, other.id)).status).toBeLessThan(300);
    const deleted = await recorded(async () => ok(await server().admin.request('DELETE', `/api/v1/applications/${appId}`), 204));
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ subject: { user_id: holder.id }, app_id: appId, claims: {}, grant_ended: false });
  });

  it('refuses membership and mapping changes to a non-admin and bad input, recording nothing', async () => {
    const appId = await app('refused');
    const group = await createGroup(server(), 'refused');
    await mapping(appId, [group]);
    const nobody = await createPerson(server(), 'nobody');
    const refused = await recorded(async () => {
      expect((await nobody.client.request('PUT', `/api/v1/groups/${group}/members/${nobody.id}`, {})).status).toBe(403);
      expect((await nobody.client.post('/api/v1/mappings', { app_id: appId, claim: 'role', value: 'x', group_ids: [group] })).status).toBe(403);
      expect((await member(group, nobody.id, { expires_at: 'yesterday' })).status).toBe(400);
      expect((await server().admin.post('/api/v1/mappings', { app_id: appId, claim: 'role', value: 'x', group_ids: ['not-a-group'] })).status).toBe(400);
    });
    expect(refused).toEqual([]);
  });

  it('the batched claims read of the signals agrees with the per-user decision point, scheduled and temporary memberships included', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const db = server().app.core.db;
    const later = await createPerson(server(), 'batched-later');
    const scheduledTemplate = await s.template({ max_start_delay_mins: 24 * 60 });
    await grant(scheduledTemplate, later, { starts_at: new Date(Math.ceil((Date.now() + 10 * MIN) / 1000) * 1000).toISOString() });
    const users = (await db.selectFrom('users').select('id').execute()).map((u) => u.id);
    for (const at of [Date.now(), Date.now() + 11 * MIN, Date.now() + 2 * 60 * MIN]) {
      const batched = await effectiveClaimsOfUsers(db, users, s.appId, at);
      expect([...batched.keys()].sort()).toEqual([...users].sort());
      for (const id of users) expect(batched.get(id)).toEqual(await effectiveClaims(db, id, s.appId, at));
    }
    expect(Object.keys((await effectiveClaimsOfUsers(db, [later.id], s.appId, Date.now() + 11 * MIN)).get(later.id)!.claims)).toEqual(['role']);
  });
});
