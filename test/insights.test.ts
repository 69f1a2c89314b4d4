import { sql } from 'kysely';
import * as client from 'openid-client';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { Db, DialectName } from '../src/db/database.ts';
import { createGroup, createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

const S = 1000;

/** Counts every write to grant_usage (a trigger into a side table): the "written only when stale" rule, observed in the database. */
async function countUsageWrites(db: Db, dialect: DialectName): Promise<void> {
  if (dialect === 'sqlite') {
    await sql`create table if not exists test_usage_writes (request_id text, at bigint)`.execute(db);
    await sql`create trigger if not exists test_usage_count after update on grant_usage begin insert into test_usage_writes values (new.request_id, new.last_used_at); end`.execute(db);
  } else {
    await sql`create table if not exists test_usage_writes (request_id text, at bigint)`.execute(db);
    await sql`create or replace function test_usage_count() returns trigger as $$ begin insert into test_usage_writes values (new.request_id, new.last_used_at); return new; end $$ language plpgsql`.execute(db);
    await sql`drop trigger if exists test_usage_count on grant_usage`.execute(db);
    await sql`create trigger test_usage_count after update on grant_usage for each row execute function test_usage_count()`.execute(db);
  }
}

const writesOf = async (db: Db, requestId: string) =>
  (await sql<{ at: number | string }>`select at from test_usage_writes where request_id = ${requestId} order by at`.execute(db)).rows.map((r) => Number(r.at));

/**
 * Issue 14 §6: insights checked against a scripted history with known answers. Requests go
 * through the real API, tokens through real OIDC issuance (openid-client), and the injected
 * clock moves between the steps.
 */
describeEachDialect('insights', (server, dialect) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Each test sets its cast up at its own moment (sessions last 12 h; each history is years apart).
  let s: AccessSetup;
  beforeAll(async () => {
    await countUsageWrites(server().app.core.db, dialect);
  });

  const relying = () => {
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    return { app, config: relyingParty(server(), app) };
  };
  const insights = (query: string, who: ApiClient = s.admin.client) => who.get(`/api/v1/insights?${query}`);

  it('computes the known figures of a scripted history', async () => {
    const T0 = Date.parse('2031-03-01T09:00:00Z');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0 - 60 * S);
    s = await setUpAccess(server());
    const at = (secs: number) => vi.setSystemTime(T0 + secs * S);
    const db = server().app.core.db;
    const [u2, u3, u4, u5, veteran, passing] = (await Promise.all(['u2', 'u3', 'u4', 'u5', 'veteran', 'passing'].map((l) => createPerson(server(), l)))) as [Person, Person, Person, Person, Person, Person];
    const u1: Person = s.requester;
    const templateA = await s.template({ name: `insights-a-${process.pid}` });
    const templateB = await s.template({ name: `insights-b-${process.pid}`, escalation_after_mins: null, escalation_group_id: null, pending_ttl_mins: 60 });
    // Standing access: a permanent member of a group whose mapping gives the same role as the templates, and a temporary one.
    const standingGroup = await createGroup(server(), 'standing-admins', [veteran.id]);
    const temporaryUntil = new Date(T0 + 86_400 * S).toISOString();
    expect((await server().admin.request('PUT', `/api/v1/groups/${standingGroup}/members/${passing.id}`, { expires_at: temporaryUntil })).status).toBeLessThan(300);
    const standingMapping = await server().admin.post('/api/v1/mappings', { app_id: s.appId, claim: 'role', value: ['prod-admin', 'viewer'], group_ids: [standingGroup] });
    expect(standingMapping.status).toBe(201);
    const { app, config: configPromise } = relying();
    const config = await configPromise;

    const submit = async (who: Person, templateId: string) => {
      const res = await who.client.post('/api/v1/access-requests', validRequest(templateId));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    // A1: approved after 10 s without a comment (a rubber stamp), used from +70 s to +1200 s.
    at(0);
    const a1 = await submit(u1, templateA);
    at(10);
    expect((await s.approver.client.post(`/api/v1/access-requests/${a1}/approve`, {})).status).toBe(200);
    // A2: approved after 300 s with a comment, never used.
    at(60);
    const a2 = await submit(u2, templateA);
    // A3: denied after 900 s. A4: escalated, then denied after 1800 s.
    at(120);
    const a3 = await submit(u3, templateA);
    at(180);
    const a4 = await submit(u4, templateA);
    // B1: never decided, lapses after 60 min.
    at(200);
    const b1 = await submit(u5, templateB);
    at(360);
    expect((await s.secondApprover.client.post(`/api/v1/access-requests/${a2}/approve`, { comment: 'ok for INC-1234' })).status).toBe(200);

    // Tokens for A1's requester: the first at +70 s is its first use; +100 s is 30 s fresh, not written.
    at(70);
    const first = await codeFlow(config, new Browser(server().url), app, { email: u1.email, password: PASSWORD });
    expect(first.tokens.claims()).toMatchObject({ role: 'prod-admin' });
    expect(await writesOf(db, a1)).toEqual([T0 + 70 * S]);
    at(100);
    const second = await client.refreshTokenGrant(config, first.tokens.refresh_token!);
    expect(await writesOf(db, a1)).toEqual([T0 + 70 * S]);

    at(1020);
    expect((await s.approver.client.post(`/api/v1/access-requests/${a3}/deny`, { comment: 'not needed' })).status).toBe(200);
    at(1100);
    await server().app.runWorkerOnce(); // A4 escalates (15 min)
    // +1200 s: stale by 1100 s, written; +1230 s: fresh, not written; userinfo and introspection never write.
    at(1200);
    const third = await client.refreshTokenGrant(config, second.refresh_token!);
    at(1230);
    const fourth = await client.refreshTokenGrant(config, third.refresh_token!);
    at(1300);
    await client.fetchUserInfo(config, fourth.access_token, u1.id);
    await client.tokenIntrospection(config, fourth.access_token);
    expect(await writesOf(db, a1)).toEqual([T0 + 70 * S, T0 + 1200 * S]);
    at(1980);
    expect((await s.approver.client.post(`/api/v1/access-requests/${a4}/deny`, { comment: 'too late' })).status).toBe(200);
    at(4000);
    await server().app.runWorkerOnce(); // B1 lapses; A1 and A2 expire
    expect(await writesOf(db, a2)).toEqual([]);

    at(5000);
    const range = `from=${new Date(T0 - 60 * S).toISOString()}&to=${new Date(T0 + 3600 * S).toISOString()}`;
    const res = await insights(range);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body;
    expect(body).toMatchObject({ from: new Date(T0 - 60 * S).toISOString(), rubber_stamp_secs: 30, usage_precision_secs: 60, template_id: null });
    const decisionTimes = { decision_median_secs: 600, decision_p90_secs: 1530 };
    expect(body.overall).toEqual({
      requests: 5,
      approved: 2,
      denied: 2,
      approval_rate: 0.5,
      ...decisionTimes,
      escalations: 1,
      lapsed: 1,
      grants: 2,
      never_used: 1,
      first_use_median_secs: 60,
      used_secs: 1190,
      unused_secs: 3600 - 1190 + 3600,
    });
    const rowA = body.templates.find((t: { template_id: string }) => t.template_id === templateA);
    expect(rowA).toMatchObject({ requests: 4, approved: 2, denied: 2, approval_rate: 0.5, ...decisionTimes, escalations: 1, lapsed: 0, grants: 2, never_used: 1 });
    expect(body.templates.find((t: { template_id: string }) => t.template_id === templateB)).toMatchObject({ requests: 1, approved: 0, approval_rate: null, decision_median_secs: null, lapsed: 1, grants: 0 });

    const grant1 = body.grants.find((g: { request_id: string }) => g.request_id === a1);
    expect(grant1).toEqual({
      request_id: a1,
      template_id: templateA,
      template_name: `insights-a-${process.pid}`,
      requester_id: u1.id,
      requester_email: u1.email,
      activated_at: new Date(T0 + 10 * S).toISOString(),
      ends_at: new Date(T0 + 3610 * S).toISOString(),
      first_used_at: new Date(T0 + 70 * S).toISOString(),
      last_used_at: new Date(T0 + 1200 * S).toISOString(),
      time_to_first_use_secs: 60,
      granted_secs: 3600,
      used_secs: 1190,
      used_share: 1190 / 3600,
    });
    expect(body.grants.find((g: { request_id: string }) => g.request_id === a2)).toMatchObject({ first_used_at: null, last_used_at: null, time_to_first_use_secs: null, used_secs: 0, used_share: 0 });

    expect(body.approvers).toEqual([
      { approver_id: s.approver.id, email: s.approver.email, name: 'approver', decisions: 3, approvals: 1, denials: 2, median_decide_secs: 900, approvals_without_comment: 1, rubber_stamps: 1 },
      { approver_id: s.secondApprover.id, email: s.secondApprover.email, name: 'approver2', decisions: 1, approvals: 1, denials: 0, median_decide_secs: 300, approvals_without_comment: 0, rubber_stamps: 0 },
    ]);

    // Standing access: the veteran's permanent membership gives role=prod-admin, which every template of the application grants; the temporary member is not listed.
    const standing = body.standing.filter((r: { group_id: string }) => r.group_id === standingGroup);
    expect(standing.map((r: { template_id: string; claim: string; value: string; user_email: string }) => [r.template_id, r.claim, r.value, r.user_email]).sort()).toEqual(
      [
        [s.templateId, 'role', 'prod-admin', veteran.email],
        [templateA, 'role', 'prod-admin', veteran.email],
        [templateB, 'role', 'prod-admin', veteran.email],
      ].sort(),
    );

    // One template: the same figures, only its own.
    const onlyB = await insights(`${range}&template_id=${templateB}`);
    expect(onlyB.status, JSON.stringify(onlyB.body)).toBe(200);
    expect(onlyB.body.overall).toMatchObject({ requests: 1, lapsed: 1 });
    expect(onlyB.body.templates.map((t: { template_id: string }) => t.template_id)).toEqual([templateB]);
    expect(onlyB.body.approvers).toEqual([]);
    expect(onlyB.body.standing.every((r: { template_id: string }) => r.template_id === templateB)).toBe(true);

    // A range that ends before the history starts has none of it.
    const before = await insights(`to=${new Date(T0 - 60 * S).toISOString()}`);
    expect(before.body.grants.some((g: { request_id: string }) => g.request_id === a1)).toBe(false);
    // The default range is the 30 days before now.
    const dflt = await insights('');
    expect(dflt.body).toMatchObject({ to: new Date(T0 + 5000 * S).toISOString(), from: new Date(T0 + 5000 * S - 30 * 86_400 * S).toISOString() });
    expect(dflt.body.overall.requests).toBeGreaterThanOrEqual(5);

    // CSV: the same figures.
    const csv = await s.admin.client.get(`/api/v1/insights/approvers.csv?${range}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('approver_id,email,name,decisions,approvals,denials,median_decide_secs,approvals_without_comment,rubber_stamps');
    expect(lines[1]).toBe(`${s.approver.id},${s.approver.email},approver,3,1,2,900,1,1`);
    const templatesCsv = (await s.admin.client.get(`/api/v1/insights/templates.csv?${range}`)).body as string;
    expect(templatesCsv.split('\r\n')[1]).toBe(',All templates,5,2,2,0.5,600,1530,1,1,2,1,60,1190,6010');
    for (const section of ['grants', 'standing']) {
      const r = await s.admin.client.get(`/api/v1/insights/${section}.csv?${range}`);
      expect(r.status).toBe(200);
      expect((r.body as string).split('\r\n').length).toBeGreaterThan(2);
    }
    expect((await s.admin.client.get(`/api/v1/access-requests/${b1}`)).body.status).toBe('lapsed');
  });

  it('records a grant’s first use once when several tokens are issued for it at the same moment', async () => {
    const T1 = Date.parse('2032-05-01T09:00:00Z');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T1);
    s = await setUpAccess(server());
    const db = server().app.core.db;
    const requester = await createPerson(server(), 'concurrent');
    const { app, config: configPromise } = relying();
    const config = await configPromise;
    // Four sessions' refresh tokens, taken before the grant exists.
    const tokens = [];
    for (let i = 0; i < 4; i++) tokens.push((await codeFlow(config, new Browser(server().url), app, { email: requester.email, password: PASSWORD })).tokens);
    const id = (await requester.client.post('/api/v1/access-requests', validRequest(s.templateId))).body.id as string;
    expect((await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, { comment: 'ok' })).status).toBe(200);
    vi.setSystemTime(T1 + 5 * S);
    const refreshed = await Promise.all(tokens.map((t) => client.refreshTokenGrant(config, t.refresh_token!)));
    for (const r of refreshed) expect(r.claims()).toMatchObject({ role: 'prod-admin' });
    expect(await writesOf(db, id)).toEqual([T1 + 5 * S]);
    const grant = (await insights(`from=${new Date(T1 - S).toISOString()}&to=${new Date(T1 + 60 * S).toISOString()}`)).body.grants.find((g: { request_id: string }) => g.request_id === id);
    expect(grant).toMatchObject({ first_used_at: new Date(T1 + 5 * S).toISOString(), last_used_at: new Date(T1 + 5 * S).toISOString(), time_to_first_use_secs: 5 });
    // 70 s later, again at once: one more write, the first use unchanged.
    vi.setSystemTime(T1 + 75 * S);
    await Promise.all(refreshed.map((r) => client.refreshTokenGrant(config, r.refresh_token!)));
    expect(await writesOf(db, id)).toEqual([T1 + 5 * S, T1 + 75 * S]);
    const again = (await insights(`from=${new Date(T1 - S).toISOString()}&to=${new Date(T1 + 60 * S).toISOString()}`)).body.grants.find((g: { request_id: string }) => g.request_id === id);
    expect(again).toMatchObject({ first_used_at: new Date(T1 + 5 * S).toISOString(), last_used_at: new Date(T1 + 75 * S).toISOString() });
  });

  it('refuses bad ranges (400 naming the field), anonymous callers (401) and non-admins (403)', async () => {
    s = await setUpAccess(server());
    const bad: Array<[string, string]> = [
      ['from=yesterday', 'querystring.from'],
      ['to=2031-01-01', 'querystring.to'],
      ['template_id=not-a-uuid', 'querystring.template_id'],
      ['from=2031-02-01T00:00:00Z&to=2031-01-01T00:00:00Z', 'querystring.to'],
      ['from=2020-01-01T00:00:00Z&to=2031-01-01T00:00:00Z', 'querystring.from'],
    ];
    for (const [query, field] of bad) {
      for (const path of ['/api/v1/insights', '/api/v1/insights/grants.csv']) {
        const res = await s.admin.client.get(`${path}?${query}`);
        expect(res.status, `${path}?${query}`).toBe(400);
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
    }
    for (const path of ['/api/v1/insights', '/api/v1/insights/templates.csv', '/api/v1/insights/grants.csv', '/api/v1/insights/approvers.csv', '/api/v1/insights/standing.csv']) {
      expect((await new ApiClient(server().url).get(path)).status).toBe(401);
      expect((await s.approver.client.get(path)).status).toBe(403);
      expect((await s.requester.client.get(path)).status).toBe(403);
    }
  });
});
