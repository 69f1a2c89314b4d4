import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createGroup, createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const MIN = 60_000;
const EXTENDABLE = { allowed_durations: [60, 120], allow_extension: true, max_total_mins: 180 };

interface Entry {
  kind: string;
  at: string;
  actor: { id: string; name: string } | null;
  comment: string | null;
  reason: string | null;
  cause: string | null;
  duration_mins: number | null;
  recipients: { person: { id: string } | null; address: string | null; channels: string[] }[];
}

/** Issue 14 §3: the time-zone setting, a request's whole story, and what the requester already holds. */
describeEachDialect('time and people', (server) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const detail = async (id: string, who: Person = s.requester) => {
    const res = await who.client.get(`/api/v1/access-requests/${id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { timeline: Entry[]; comments: { body: string }[]; decided_by: { id: string } | null; decided_at: string | null; can_see_requester_access: boolean };
  };
  const storyOf = (timeline: Entry[]) => timeline.filter((e) => e.kind !== 'notified').map((e) => [e.kind, e.actor?.id ?? null]);
  const toldAfter = (timeline: Entry[], cause: string) => timeline.find((e) => e.kind === 'notified' && e.cause === cause);

  it('time zone: yours to set (an IANA name, or null for the browser’s), shown in the session; never anyone else’s', async () => {
    const me = await createPerson(server(), 'zoned');
    const other = await createPerson(server(), 'other');
    expect((await me.client.get('/api/v1/session')).body.user.time_zone).toBeNull();

    const set = await me.client.patch('/api/v1/me', { time_zone: 'Asia/Tokyo' });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ id: me.id, time_zone: 'Asia/Tokyo' });
    expect((await me.client.get('/api/v1/session')).body.user.time_zone).toBe('Asia/Tokyo');
    expect((await server().admin.get(`/api/v1/users/${me.id}`)).body.time_zone).toBe('Asia/Tokyo');
    // Audited once per change; setting the same zone again changes nothing.
    expect((await me.client.patch('/api/v1/me', { time_zone: 'Asia/Tokyo' })).status).toBe(200);
    const audited = await server().app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'user.settings_changed').where('target_id', '=', me.id).execute();
    expect(audited.map((a) => JSON.parse(a.data))).toEqual([{ time_zone: { before: null, after: 'Asia/Tokyo' } }]);

    for (const bad of ['Mars/Olympus_Mons', 'Europe/Pariss', '', ' UTC', 'x'.repeat(101), 42]) {
      const res = await me.client.patch('/api/v1/me', { time_zone: bad });
      expect(res.status, `${String(bad)}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(JSON.stringify(res.body)).toContain('time_zone');
    }
    // Only settings: nobody makes themself an admin through /me.
    const sneaky = await me.client.patch('/api/v1/me', { is_admin: true });
    expect(sneaky.status).toBe(400);
    expect((await server().admin.get(`/api/v1/users/${me.id}`)).body.is_admin).toBe(false);

    // Someone else's zone: a user may not change another user (403), and not even an admin may set it.
    expect((await me.client.patch(`/api/v1/users/${other.id}`, { name: 'renamed' })).status).toBe(403);
    expect((await server().admin.patch(`/api/v1/users/${other.id}`, { time_zone: 'Asia/Tokyo' })).status).toBe(400);
    expect((await me.client.get(`/api/v1/users/${other.id}`)).status).toBe(404);
    expect((await server().admin.get(`/api/v1/users/${other.id}`)).body.time_zone).toBeNull();

    expect((await new ApiClient(server().url).patch('/api/v1/me', { time_zone: 'UTC' })).status).toBe(401);
    // Someone who must first replace an admin-set password may not change settings yet (403), as for every other call.
    const pending = await server().admin.post('/api/v1/users', { email: `pending-${Date.now()}@example.test`, name: 'pending', password: PASSWORD });
    const pendingClient = new ApiClient(server().url);
    expect((await pendingClient.signIn(pending.body.email, PASSWORD)).status).toBe(200);
    const refused = await pendingClient.patch('/api/v1/me', { time_zone: 'UTC' });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect((await server().admin.get(`/api/v1/users/${pending.body.id}`)).body.time_zone).toBeNull();

    // Stored as Intl spells it, so the portal's list finds it.
    expect((await me.client.patch('/api/v1/me', { time_zone: 'europe/paris' })).body.time_zone).toBe('Europe/Paris');

    const reset = await me.client.patch('/api/v1/me', { time_zone: null });
    expect(reset.body.time_zone).toBeNull();
    expect((await me.client.patch('/api/v1/me', {})).body.time_zone).toBeNull();
  });

  it('time zone: concurrent changes each land whole, and the audit holds one event per change', async () => {
    const me = await createPerson(server(), 'racer');
    const zones = ['Europe/Paris', 'Asia/Tokyo', 'America/New_York', 'UTC', 'Australia/Sydney', 'Africa/Lagos'];
    const results = await Promise.all(zones.map((time_zone) => me.client.patch('/api/v1/me', { time_zone })));
    expect(results.map((r) => r.status)).toEqual(zones.map(() => 200));
    const final = (await me.client.get('/api/v1/session')).body.user.time_zone;
    expect(zones).toContain(final);
    const audited = await server().app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'user.settings_changed').where('target_id', '=', me.id).orderBy('seq').execute();
    const changes = audited.map((a) => (JSON.parse(a.data) as { time_zone: { before: string | null; after: string } }).time_zone);
    expect(changes).toHaveLength(zones.length);
    // Serialised: each change starts from the one before it, and the last is what stays.
    changes.forEach((c, i) => expect(c.before).toBe(i === 0 ? null : changes[i - 1]!.after));
    expect(changes.at(-1)!.after).toBe(final);
  });

  it('timeline: notified → escalated → approved → extended → revoked, in order, with actors, comments, reasons and who was told', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const templateId = await s.template(EXTENDABLE);
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const id = submitted.body.id as string;

    vi.setSystemTime(Date.now() + 16 * MIN);
    await server().app.runWorkerOnce();
    const approved = await s.escalationMember.client.post(`/api/v1/access-requests/${id}/approve`, { comment: 'ok for the incident' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    vi.setSystemTime(Date.now() + 50 * MIN);
    const extension = await s.requester.client.post(`/api/v1/access-requests/${id}/extensions`, { duration_mins: 60, justification: 'INC-1234 still open' });
    expect(extension.status, JSON.stringify(extension.body)).toBe(201);
    const extended = await s.approver.client.post(`/api/v1/access-requests/${extension.body.id}/approve`, { comment: 'one more hour' });
    expect(extended.status, JSON.stringify(extended.body)).toBe(200);
    await s.requester.client.post(`/api/v1/access-requests/${id}/comments`, { body: 'thanks, done soon' });
    const revoked = await s.admin.client.post(`/api/v1/access-requests/${id}/revoke`, { reason: 'incident closed' });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);

    const { timeline, comments } = await detail(id);
    expect(storyOf(timeline)).toEqual([
      ['submitted', s.requester.id],
      ['escalated', null],
      ['approved', s.escalationMember.id],
      ['activated', s.escalationMember.id],
      ['extension_requested', s.requester.id],
      ['extended', s.approver.id],
      ['revoked', s.admin.id],
    ]);
    const at = timeline.map((e) => Date.parse(e.at));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const byKind = (kind: string) => timeline.find((e) => e.kind === kind)!;
    expect(byKind('approved').comment).toBe('ok for the incident');
    expect(byKind('extension_requested')).toMatchObject({ comment: 'INC-1234 still open', duration_mins: 60 });
    expect(byKind('extended')).toMatchObject({ comment: 'one more hour', duration_mins: 60 });
    expect(byKind('revoked').reason).toBe('incident closed');

    // Who was told, and how: the approvers of the submission in the app and by e-mail, the escalation group on escalation.
    const asked = toldAfter(timeline, 'submitted')!;
    expect(timeline.indexOf(asked)).toBe(1);
    for (const approver of [s.approver, s.secondApprover]) {
      expect(asked.recipients.find((r) => r.person?.id === approver.id)?.channels).toEqual(['in_app', 'email']);
    }
    expect(toldAfter(timeline, 'escalated')!.recipients.map((r) => r.person?.id)).toContain(s.escalationMember.id);
    expect(toldAfter(timeline, 'revoked')!.recipients.map((r) => r.person?.id)).toEqual([s.requester.id]);
    // The comment is in the discussion, not the timeline; the discussion stays on the ended request.
    expect(timeline.some((e) => e.cause === 'comment_added')).toBe(false);
    expect(comments.map((c) => c.body)).toEqual(['thanks, done soon']);

    // The extension request tells its own part, its approval (recorded on the grant) included.
    expect(storyOf((await detail(extension.body.id)).timeline)).toEqual([
      ['extension_requested', s.requester.id],
      ['extended', s.approver.id],
    ]);

    // The same story for every viewer; those who may not see the request get 404, as for the detail.
    expect((await detail(id, s.approver)).timeline).toEqual(timeline);
    expect((await s.outsider.client.get(`/api/v1/access-requests/${id}`)).status).toBe(404);
  });

  it('timeline: a denied request says who denied it, when and why, and keeps its discussion', async () => {
    const templateId = await s.template();
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect((await s.approver.client.post(`/api/v1/access-requests/${body.id}/comments`, { body: 'which table?' })).status).toBe(201);
    const denied = await s.secondApprover.client.post(`/api/v1/access-requests/${body.id}/deny`, { comment: 'not during the freeze' });
    expect(denied.status).toBe(200);
    const view = await detail(body.id);
    expect(view.decided_by?.id).toBe(s.secondApprover.id);
    expect(storyOf(view.timeline)).toEqual([
      ['submitted', s.requester.id],
      ['denied', s.secondApprover.id],
    ]);
    const deniedStep = view.timeline.find((e) => e.kind === 'denied')!;
    expect(deniedStep.comment).toBe('not during the freeze');
    expect(Math.abs(Date.parse(deniedStep.at) - Date.parse(view.decided_at!))).toBeLessThan(1000);
    expect(toldAfter(view.timeline, 'denied')!.recipients).toEqual([expect.objectContaining({ person: expect.objectContaining({ id: s.requester.id }), channels: ['in_app', 'email'] })]);
    expect(view.comments.map((c) => c.body)).toEqual(['which table?']);
  });

  it('requester access: grants on the same application, standing memberships and other grants, for deciders and admins only', async () => {
    const requester = await createPerson(server(), 'holder');
    // A grant of another template of the same application, active now.
    const other = await s.template();
    const grant = await requester.client.post('/api/v1/access-requests', validRequest(other));
    expect((await s.approver.client.post(`/api/v1/access-requests/${grant.body.id}/approve`, {})).status).toBe(200);
    // A permanent membership that the application's mappings turn into a claim, and a temporary one that does not count.
    const standing = await createGroup(server(), 'dba-team', [requester.id]);
    expect((await server().admin.post('/api/v1/mappings', { app_id: s.appId, claim: 'team', value: 'dba', group_ids: [standing] })).status).toBe(201);
    // A grant elsewhere: a template of another application.
    const app = await server().admin.post('/api/v1/applications', { name: `elsewhere-${Date.now()}`, redirect_uris: ['http://127.0.0.1:9/cb'], first_party: true });
    expect(app.status, JSON.stringify(app.body)).toBe(201);
    const mapping = await server().admin.post('/api/v1/mappings', { app_id: app.body.id, claim: 'role', value: 'viewer', group_ids: [await createGroup(server(), 'viewers')] });
    expect(mapping.status, JSON.stringify(mapping.body)).toBe(201);
    const elsewhereTemplate = await server().admin.post('/api/v1/access-request-templates', { name: `auto-${Date.now()}`, app_id: app.body.id, mapping_ids: [mapping.body.id], allowed_durations: [60], approver_group_ids: [s.approverGroupId] });
    expect(elsewhereTemplate.status, JSON.stringify(elsewhereTemplate.body)).toBe(201);
    const elsewhere = await requester.client.post('/api/v1/access-requests', { template_id: elsewhereTemplate.body.id, duration_mins: 60, justification: 'reports' });
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(201);
    expect((await s.approver.client.post(`/api/v1/access-requests/${elsewhere.body.id}/approve`, {})).body.status).toBe('approved');

    const asked = await requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    const path = `/api/v1/access-requests/${asked.body.id}/requester-access`;

    const seen = await s.approver.client.get(path);
    expect(seen.status, JSON.stringify(seen.body)).toBe(200);
    expect(seen.body.app.id).toBe(s.appId);
    expect(seen.body.grants).toEqual([expect.objectContaining({ request_id: grant.body.id, template_id: other, scheduled: false, grants: [{ claim: 'role', value: 'prod-admin' }] })]);
    expect(seen.body.grants[0].seconds_left).toBeGreaterThan(59 * 60 - 30);
    expect(seen.body.standing).toEqual([{ group: { id: standing, name: expect.any(String) }, claims: [{ claim: 'team', value: 'dba' }] }]);
    expect(seen.body.other_active_grants).toBe(1);
    expect((await s.admin.client.get(path)).body).toEqual(seen.body);
    expect((await detail(asked.body.id, s.approver)).can_see_requester_access).toBe(true);

    // The requester sees their own grants elsewhere (403 here); those who may not see the request get 404.
    expect((await requester.client.get(path)).status).toBe(403);
    expect((await detail(asked.body.id, requester)).can_see_requester_access).toBe(false);
    expect((await s.outsider.client.get(path)).status).toBe(404);
    expect((await s.escalationMember.client.get(path)).status).toBe(404);
    expect((await new ApiClient(server().url).get(path)).status).toBe(401);
    const bad = await s.approver.client.get('/api/v1/access-requests/not-a-uuid/requester-access');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('id');
  });
});
