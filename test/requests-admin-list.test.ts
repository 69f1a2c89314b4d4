import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Listed {
  id: string;
  status: string;
  expires_at: string | null;
}

/**
 * The admin request list (issue 14 §1): every filter, the three sorts in both orders with a
 * keyset cursor across pages and ties, literal text search, the CSV export, the admin's
 * "pending elsewhere" count, and the catalogue's per-template state for the caller.
 */
describeEachDialect('admin request list, CSV export and catalogue state', (server) => {
  let s: AccessSetup;
  let shared: string; // p1..p4 at T0 and p5 at T1, all on this template
  let billing: string; // one request, whose name holds LIKE wildcards
  let p: Person[];
  const byId: Record<string, string> = {};
  let T0: number;

  const admin = () => server().admin;
  const list = async (query: string): Promise<{ items: Listed[]; next_cursor: string | null }> => {
    const res = await admin().get(`/api/v1/access-requests/all?${query}`);
    expect(res.status, `${query}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  };
  const idsOf = async (query: string) => (await list(query)).items.map((r) => r.id);
  /** Every page of a query, `limit` at a time. */
  const allPages = async (query: string, limit: number) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next_cursor;
      if (!cursor) return seen;
    }
    throw new Error('paging did not end');
  };
  const submit = async (who: Person, templateId: string, overrides: Record<string, unknown> = {}) => {
    const res = await who.client.post('/api/v1/access-requests', validRequest(templateId, overrides));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const decide = async (by: Person, id: string, how: 'approve' | 'deny', comment?: string) => {
    const res = await by.client.post(`/api/v1/access-requests/${id}/${how}`, comment ? { comment } : {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const asc = (ids: string[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  beforeAll(async () => {
    s = await setUpAccess(server());
    p = await Promise.all(['one', 'two', 'quentin', 'plum', 'five'].map((label) => createPerson(server(), label)));
    expect((await server().admin.patch(`/api/v1/users/${p[2]!.id}`, { name: 'Quentin Blake' })).status).toBe(200);
    shared = await s.template();
    billing = await s.template({ name: 'Billing 50%_off' });

    vi.useFakeTimers({ toFake: ['Date'] });
    T0 = Math.floor(Date.now() / 1000) * 1000 + 1000;
    vi.setSystemTime(T0);
    // Four requests in the same millisecond: every sort ties on them and falls back to the id.
    byId.p1 = await submit(p[0]!, shared, { duration_mins: 60 });
    byId.p2 = await submit(p[1]!, shared, { duration_mins: 240, justification: 'Zebra-42 rollout' });
    byId.p3 = await submit(p[2]!, shared);
    byId.p4 = await submit(p[3]!, shared);
    await decide(s.approver, byId.p1, 'approve');
    await decide(s.approver, byId.p2, 'approve');
    await decide(s.secondApprover, byId.p4, 'deny', '-1 not needed');
    vi.setSystemTime(T0 + 60 * MIN);
    byId.p5 = await submit(p[4]!, shared);
    byId.billing = await submit(p[0]!, billing, { justification: '=HYPERLINK("http://x.test","click"), then\nline two' });
    await decide(s.approver, byId.billing, 'approve', '+1 @ops');
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('filters by status (one or several), requester, template, approver and submission time', async () => {
    const q = `template_id=${shared}`;
    expect(asc(await idsOf(q))).toEqual(asc([byId.p1!, byId.p2!, byId.p3!, byId.p4!, byId.p5!]));
    expect(asc(await idsOf(`${q}&status=pending`))).toEqual(asc([byId.p3!, byId.p5!]));
    expect(asc(await idsOf(`${q}&status=approved,denied`))).toEqual(asc([byId.p1!, byId.p2!, byId.p4!]));
    expect(asc(await idsOf(`${q}&status=${encodeURIComponent(' denied , denied')}`))).toEqual([byId.p4!]);
    expect(await idsOf(`requester_id=${p[0]!.id}&sort=submitted&order=asc`)).toEqual([byId.p1!, byId.billing!]);
    expect(await idsOf(`template_id=${billing}`)).toEqual([byId.billing!]);
    expect(asc(await idsOf(`approver_id=${s.approver.id}`))).toEqual(asc([byId.p1!, byId.p2!, byId.billing!]));
    expect(await idsOf(`approver_id=${s.secondApprover.id}`)).toEqual([byId.p4!]);
    expect(await idsOf(`approver_id=${s.outsider.id}`)).toEqual([]);
    expect(asc(await idsOf(`${q}&submitted_to=${iso(T0 + MIN)}`))).toEqual(asc([byId.p1!, byId.p2!, byId.p3!, byId.p4!]));
    expect(await idsOf(`${q}&submitted_from=${iso(T0 + MIN)}`)).toEqual([byId.p5!]);
    // Both ends are inclusive.
    expect(await idsOf(`${q}&submitted_from=${iso(T0 + 60 * MIN)}&submitted_to=${iso(T0 + 60 * MIN)}`)).toEqual([byId.p5!]);
    // Filters combine.
    expect(await idsOf(`${q}&status=approved&approver_id=${s.approver.id}&requester_id=${p[1]!.id}`)).toEqual([byId.p2!]);
    // The rows are the usual request shape, with names.
    const [row] = (await list(`requester_id=${p[2]!.id}`)).items as unknown as { requester: { name: string }; template_name: string; app: { name: string } }[];
    expect(row).toMatchObject({ requester: { name: 'Quentin Blake' }, app: { name: expect.stringContaining('prod-db') } });
  });

  it('searches justification, requester email and name, template and application name, in any case and as literal text', async () => {
    expect(await idsOf('q=zebra-42')).toEqual([byId.p2!]);
    expect(await idsOf('q=N%20bLA')).toEqual([byId.p3!]);
    expect(await idsOf(`q=${encodeURIComponent(p[3]!.email.slice(0, 8).toUpperCase())}`)).toEqual([byId.p4!]);
    expect(await idsOf('q=billing%2050')).toEqual([byId.billing!]);
    // % and _ match themselves only: one template name holds them, nothing else does.
    expect(await idsOf('q=%25')).toEqual([byId.billing!]);
    expect(await idsOf('q=_')).toEqual([byId.billing!]);
    expect(await idsOf('q=0%25_o')).toEqual([byId.billing!]);
    expect(await idsOf('q=5_%25')).toEqual([]);
    // The application's name finds every request on it.
    const appName = ((await list('limit=1')).items[0] as unknown as { app: { name: string } }).app.name;
    expect((await idsOf(`q=${encodeURIComponent(appName.toUpperCase())}`)).length).toBe(6);
    expect(await idsOf('q=no-such-text-anywhere')).toEqual([]);
  });

  it('sorts by submission, last change and end, both ways, paging across ties by id', async () => {
    const q = `template_id=${shared}`;
    const tied = [byId.p1!, byId.p2!, byId.p3!, byId.p4!];
    // Submitted: p1..p4 tie at T0 (id breaks the tie), p5 is an hour later.
    expect(await allPages(`${q}&sort=submitted&order=asc`, 2)).toEqual([...asc(tied), byId.p5!]);
    expect(await allPages(`${q}&sort=submitted&order=desc`, 2)).toEqual([byId.p5!, ...asc(tied).reverse()]);
    expect(await allPages(`${q}&sort=submitted&order=asc`, 1)).toEqual([...asc(tied), byId.p5!]);
    // Ends: p1 (1 h) before p2 (4 h); requests without an end come last in either order.
    const endless = asc([byId.p3!, byId.p4!, byId.p5!]);
    expect(await allPages(`${q}&sort=ends&order=asc`, 2)).toEqual([byId.p1!, byId.p2!, ...endless]);
    expect(await allPages(`${q}&sort=ends&order=desc`, 2)).toEqual([byId.p2!, byId.p1!, ...endless.reverse()]);
    // Last change: everything changed at T0 except p5 (T0 + 1 h).
    expect(await allPages(`${q}&sort=updated&order=desc`, 3)).toEqual([byId.p5!, ...asc(tied).reverse()]);
    // A filtered page keeps its filter across pages.
    expect(await allPages(`${q}&status=pending&sort=submitted&order=asc`, 1)).toEqual([byId.p3!, byId.p5!]);
  });

  it('refuses a cursor made for another sort or order, and other bad input, naming the parameter', async () => {
    const first = await list(`template_id=${shared}&sort=submitted&order=asc&limit=1`);
    expect(first.next_cursor).toBeTruthy();
    const cursor = encodeURIComponent(first.next_cursor!);
    for (const other of ['sort=ends&order=asc', 'sort=submitted&order=desc', 'sort=updated&order=asc']) {
      const res = await admin().get(`/api/v1/access-requests/all?template_id=${shared}&${other}&limit=1&cursor=${cursor}`);
      expect(res.status, other).toBe(400);
      expect(res.body.errors[0].field).toBe('cursor');
    }
    const bad: [string, string][] = [
      ['status=pending,bogus', 'status'],
      ['status=', 'status'],
      ['requester_id=nope', 'requester_id'],
      ['template_id=123', 'template_id'],
      ['approver_id=x', 'approver_id'],
      ['submitted_from=yesterday', 'submitted_from'],
      ['submitted_to=2026-13-01', 'submitted_to'],
      [`submitted_from=${iso(T0 + MIN)}&submitted_to=${iso(T0)}`, 'submitted_from'],
      ['q=', 'q'],
      [`q=${'x'.repeat(201)}`, 'q'],
      ['sort=name', 'sort'],
      ['order=up', 'order'],
      ['limit=0', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
    ];
    for (const [query, field] of bad) {
      for (const path of ['/api/v1/access-requests/all', '/api/v1/access-requests/export']) {
        if (path.endsWith('export') && (field === 'limit' || field === 'cursor')) continue;
        const res = await admin().get(`${path}?${query}`);
        expect(res.status, `${path}?${query}`).toBe(400);
        expect(JSON.stringify(res.body), `${path}?${query}`).toContain(field);
      }
    }
  });

  it('answers 401 without a caller and 403 to a signed-in non-admin', async () => {
    const anonymous = new ApiClient(server().url);
    for (const path of ['/api/v1/access-requests/all', '/api/v1/access-requests/export', '/api/v1/access-requests/all/pending-elsewhere']) {
      expect((await anonymous.get(path)).status, path).toBe(401);
      const res = await s.approver.client.get(path);
      expect(res.status, path).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
  });

  it('exports the same filtered set as CSV with names and emails, quoted, and formulas defused', async () => {
    const res = await admin().get(`/api/v1/access-requests/export?template_id=${shared}&sort=submitted&order=asc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const lines = (res.body as string).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(
      'id,status,kind,template_id,template_name,application_name,requester_id,requester_name,requester_email,duration_mins,justification,submitted_at,decided_at,decided_by_name,decided_by_email,decision_comment,starts_at,expires_at,ended_at,end_reason,ended_by_email,revoke_reason,updated_at',
    );
    // Same rows, same order as the list.
    expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual([...asc([byId.p1!, byId.p2!, byId.p3!, byId.p4!]), byId.p5!]);
    const denied = lines.find((l) => l.startsWith(byId.p4!))!;
    expect(denied).toContain(`,denied,request,${shared},`);
    expect(denied).toContain(`,plum,${p[3]!.email},60,`);
    expect(denied).toContain(`,approver2,${s.secondApprover.email},"'-1 not needed",`);
    expect(denied).toContain(`,${iso(T0)},`);

    const billingCsv = (await admin().get(`/api/v1/access-requests/export?q=billing`)).body as string;
    const row = billingCsv.split('\r\n').slice(1).join('\r\n');
    expect(row).toContain(',Billing 50%_off,');
    // A formula-like cell gets a leading apostrophe; quotes are doubled; the newline stays inside the quoted cell.
    expect(row).toContain(`,"'=HYPERLINK(""http://x.test"",""click""), then\nline two",`);
    expect(row).toContain(`,"'+1 @ops",`);
    // Filters apply: nothing matches, only the header.
    expect((await admin().get('/api/v1/access-requests/export?q=no-such-text')).body).toBe(lines[0] + '\r\n');
  });

  it('counts, for an admin, the pending requests their inbox leaves out', async () => {
    const pending = (await allPages('status=pending', 50)).length;
    expect(pending).toBeGreaterThanOrEqual(2);
    // s.admin belongs to no approver group: every pending request is elsewhere.
    expect((await s.admin.client.get('/api/v1/access-requests/all/pending-elsewhere')).body).toEqual({ count: pending });
    // An admin in the approver group sees those in the inbox instead.
    const approverAdmin = await createPerson(server(), 'approving-admin', { isAdmin: true });
    expect((await admin().request('PUT', `/api/v1/groups/${s.approverGroupId}/members/${approverAdmin.id}`, {})).status).toBeLessThan(300);
    const inbox = (await approverAdmin.client.get('/api/v1/access-requests/inbox')).body.items.length;
    expect(inbox).toBeGreaterThan(0);
    expect((await approverAdmin.client.get('/api/v1/access-requests/all/pending-elsewhere')).body).toEqual({ count: pending - inbox });
  });

  it('tells the requester, per template, about a pending request, active or scheduled access, and nothing once it ended', async () => {
    const c = await createPerson(server(), 'catalogue');
    const [pendingT, activeT, scheduledT, endedT] = await Promise.all([s.template(), s.template(), s.template({ max_start_delay_mins: 24 * 60 }), s.template()]);
    const now = Date.now();
    const pendingId = await submit(c, pendingT);
    const activeId = await submit(c, activeT, { duration_mins: 240 });
    await decide(s.approver, activeId, 'approve');
    const scheduledId = await submit(c, scheduledT, { starts_at: iso(now + 120 * MIN) });
    await decide(s.approver, scheduledId, 'approve');
    const endedId = await submit(c, endedT);
    await decide(s.approver, endedId, 'approve');

    const mine = async () => {
      const res = await c.client.get('/api/v1/access-request-templates/requestable?limit=200');
      expect(res.status).toBe(200);
      return new Map((res.body.items as { id: string; mine: unknown }[]).map((t) => [t.id, t.mine]));
    };
    let states = await mine();
    expect(states.get(pendingT)).toEqual({ state: 'pending', request_id: pendingId, starts_at: null, expires_at: null, seconds_left: null });
    expect(states.get(activeT)).toEqual({ state: 'active', request_id: activeId, starts_at: null, expires_at: iso(now + 240 * MIN), seconds_left: 240 * 60 });
    expect(states.get(scheduledT)).toEqual({ state: 'scheduled', request_id: scheduledId, starts_at: iso(now + 120 * MIN), expires_at: iso(now + 180 * MIN), seconds_left: 180 * 60 });
    expect(states.get(endedT)).toMatchObject({ state: 'active', request_id: endedId, seconds_left: 3600 });
    expect(states.get(shared)).toBeNull();
    // Another user's state is theirs: p1 holds an approved grant on `shared`.
    expect((await p[0]!.client.get('/api/v1/access-request-templates/requestable?limit=200')).body.items.find((t: { id: string }) => t.id === shared).mine).toMatchObject({ state: 'active', request_id: byId.p1 });

    // An hour and a minute later the 1-hour grant has ended: the card offers a new request again.
    vi.setSystemTime(now + 61 * MIN);
    await server().app.runWorkerOnce();
    states = await mine();
    expect(states.get(endedT)).toBeNull();
    expect(states.get(activeT)).toMatchObject({ state: 'active', seconds_left: 179 * 60 });
    // Cancelling the pending request clears it too.
    expect((await c.client.post(`/api/v1/access-requests/${pendingId}/cancel`, {})).status).toBe(200);
    expect((await mine()).get(pendingT)).toBeNull();
  });
});
