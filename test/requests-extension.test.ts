import * as client from 'openid-client';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { createGroup, PASSWORD, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { allowResource } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty } from './helpers/oidc-rp.ts';

const MIN = 60_000;
const API = 'https://api.example.test';
const EXTENDABLE = { allowed_durations: [60, 120], allow_extension: true, max_total_mins: 150 };

/** Extending an active grant, and one grant per template and person (issue 12 §2). */
describeEachDialect('extending an active grant', (server, dialect) => {
  let s: AccessSetup;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const db = () => server().app.core.db;
  const row = (id: string) => db().selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const grantGroup = (requestId: string) => db().selectFrom('groups').select(['id', 'expires_at']).where('name', '=', `__access_req_${requestId}`).executeTakeFirst();
  const membershipExpiry = async (groupId: string, userId: string) =>
    (await db().selectFrom('memberships').select('expires_at').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirstOrThrow()).expires_at;
  const actions = async (id: string) =>
    (await db().selectFrom('audit_events').select('action').where('request_id', '=', id).orderBy('seq').execute()).map((e) => e.action).filter((a) => a.startsWith('access_request.'));

  /** A template, a grant of it for `who` (approved by the approver), and the grant's row. */
  async function activeGrant(overrides: Record<string, unknown> = EXTENDABLE, who: Person = s.requester) {
    const templateId = await s.template(overrides);
    const submitted = await who.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    return { templateId, id: submitted.body.id as string, expiresAt: Date.parse(approved.body.expires_at) };
  }
  const extend = (id: string, body: unknown, who: Person = s.requester) => who.client.post(`/api/v1/access-requests/${id}/extensions`, body);
  const reason = { justification: 'INC-1234 still open' };

  it('template attributes: max_total_mins defaults to the longest duration, and approval-free extension needs auto-approve', async () => {
    const made = await server().admin.post('/api/v1/access-request-templates', {
      name: `ext-${Date.now()}`,
      app_id: s.appId,
      mapping_ids: [s.mappingId],
      allowed_durations: [60, 240],
      approver_group_ids: [s.approverGroupId],
      allow_extension: true,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ allow_extension: true, extension_requires_approval: true, max_total_mins: 240 });
    const free = await server().admin.request('PATCH', `/api/v1/access-request-templates/${made.body.id}`, { extension_requires_approval: false });
    expect(free.status).toBe(400);
    expect(free.body.errors.map((e: { field: string }) => e.field)).toEqual(['extension_requires_approval']);
    const short = await server().admin.request('PATCH', `/api/v1/access-request-templates/${made.body.id}`, { max_total_mins: 30 });
    expect(short.status).toBe(400);
    expect(short.body.errors.map((e: { field: string }) => e.field)).toEqual(['max_total_mins']);
    const off = await server().admin.post('/api/v1/access-request-templates', { name: `plain-${Date.now()}`, app_id: s.appId, mapping_ids: [s.mappingId], allowed_durations: [60], approval: 'open' });
    expect(off.body).toMatchObject({ allow_extension: false, extension_requires_approval: true, max_total_mins: null });
  });

  it('refuses bad input with 400: a duration the template does not offer, a missing justification, unknown fields', async () => {
    const { id, expiresAt } = await activeGrant();
    for (const body of [{ duration_mins: 45, ...reason }, { duration_mins: 60 }, { duration_mins: 60, justification: '   ' }, { duration_mins: 60, ...reason, extra: 1 }, { duration_mins: -60, ...reason }]) {
      const res = await extend(id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const wrongDuration = await extend(id, { duration_mins: 45, ...reason });
    expect(wrongDuration.body.errors).toEqual([{ field: 'duration_mins', message: 'must be one of 60, 120 (minutes)' }]);
    expect((await row(id)).expires_at).toBe(expiresAt);
  });

  it('refuses with 409 beyond max_total_mins, on a template without extensions, and on an extension row', async () => {
    const { id } = await activeGrant();
    // 60 granted, 150 in total: 120 more would make 180.
    const beyond = await extend(id, { duration_mins: 120, ...reason });
    expect(beyond.status).toBe(409);
    expect(beyond.body).toMatchObject({ code: 'extension_exceeds_max_total', max_total_mins: 150, remaining_mins: 90 });
    const plain = await activeGrant({});
    const notAllowed = await extend(plain.id, { duration_mins: 60, ...reason });
    expect(notAllowed.status).toBe(409);
    expect(notAllowed.body.code).toBe('extension_not_allowed');
    const pending = await extend(id, { duration_mins: 60, ...reason });
    expect(pending.status).toBe(201);
    const ofExtension = await extend(pending.body.id, { duration_mins: 60, ...reason });
    expect(ofExtension.status).toBe(409);
    expect(ofExtension.body.code).toBe('not_a_grant');
  });

  it("refuses someone else's grant: 404 to whoever may not see it, 403 to an approver, 401 signed out", async () => {
    const { id, expiresAt } = await activeGrant();
    const outsider = await extend(id, { duration_mins: 60, ...reason }, s.outsider);
    expect(outsider.status).toBe(404);
    const approver = await extend(id, { duration_mins: 60, ...reason }, s.approver);
    expect(approver.status).toBe(403);
    const admin = await extend(id, { duration_mins: 60, ...reason }, s.admin);
    expect(admin.status).toBe(403);
    const anonymous = await fetch(`${server().url}/api/v1/access-requests/${id}/extensions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration_mins: 60, ...reason }),
    });
    expect(anonymous.status).toBe(401);
    const missing = await extend('01972f4e-8c1a-7b3e-9a10-0123456789ab', { duration_mins: 60, ...reason });
    expect(missing.status).toBe(404);
    expect((await row(id)).expires_at).toBe(expiresAt);
    expect(await actions(id)).not.toContain('access_request.extended');
  });

  it('approval moves the grant’s expiry, its group and membership, with one open extension at a time', async () => {
    const { id, expiresAt } = await activeGrant();
    const asked = await extend(id, { duration_mins: 60, ...reason });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect(asked.body).toMatchObject({ kind: 'extension', parent_id: id, status: 'pending', duration_mins: 60, justification: reason.justification });
    const second = await extend(id, { duration_mins: 60, ...reason });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'extension_already_open', existing_request_id: asked.body.id });
    // Approvers find it in their inbox and cannot approve their own.
    const inbox = (await s.approver.client.get('/api/v1/access-requests/inbox')).body.items.map((r: { id: string }) => r.id);
    expect(inbox).toContain(asked.body.id);
    expect((await s.requester.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {})).status).toBe(403);
    expect((await s.outsider.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {})).status).toBe(404);

    const approved = await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, { comment: 'one more hour' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('extended');
    const parent = await row(id);
    expect(parent.status).toBe('approved');
    expect(parent.expires_at).toBe(expiresAt + 60 * MIN);
    const group = await grantGroup(id);
    expect(group!.expires_at).toBe(expiresAt + 60 * MIN);
    expect(await membershipExpiry(group!.id, s.requester.id)).toBe(expiresAt + 60 * MIN);
    expect(await db().selectFrom('groups').select('id').where('name', 'like', `__access_req_${asked.body.id}%`).execute()).toHaveLength(0);
    expect(await actions(id)).toEqual(['access_request.submitted', 'access_request.approved', 'access_request.activated', 'access_request.extended']);
    expect(await actions(asked.body.id)).toEqual(['access_request.extension_requested']);
    const detail = (await s.requester.client.get(`/api/v1/access-requests/${id}`)).body;
    expect(detail.expires_at).toBe(new Date(expiresAt + 60 * MIN).toISOString());
    // 120 of 150 minutes used: 30 left, and nothing open.
    expect(detail.extension).toEqual({ durations: [60, 120], requires_approval: true, max_total_mins: 150, remaining_mins: 30, open_extension_id: null });
    const tooMuch = await extend(id, { duration_mins: 60, ...reason });
    expect(tooMuch.body).toMatchObject({ code: 'extension_exceeds_max_total', remaining_mins: 30 });
    // The requester was told, in the app.
    const notes = (await s.requester.client.get('/api/v1/notifications')).body.items as { kind: string; request_id: string }[];
    expect(notes.some((n) => n.kind === 'access_request.extended' && n.request_id === id)).toBe(true);
    expect((await verifyAuditChain(db())).ok).toBe(true);
  });

  it('a denied extension leaves the expiry alone', async () => {
    const { id, expiresAt } = await activeGrant();
    const asked = await extend(id, { duration_mins: 60, ...reason });
    const denied = await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/deny`, { comment: 'wrap it up' });
    expect(denied.status).toBe(200);
    expect(denied.body.status).toBe('denied');
    expect((await row(id)).expires_at).toBe(expiresAt);
    expect((await grantGroup(id))!.expires_at).toBe(expiresAt);
    expect(await actions(asked.body.id)).toEqual(['access_request.extension_requested', 'access_request.extension_denied']);
    // The slot is free again.
    expect((await extend(id, { duration_mins: 60, ...reason })).status).toBe(201);
  });

  it('an auto-approve template without extension approval extends at once', async () => {
    const templateId = await s.template({ auto_approve: true, requester_group_ids: [s.approverGroupId], ...EXTENDABLE, extension_requires_approval: false });
    const submitted = await s.approver.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(submitted.body.status).toBe('approved');
    const expiresAt = Date.parse(submitted.body.expires_at);
    const extended = await extend(submitted.body.id, { duration_mins: 60, ...reason }, s.approver);
    expect(extended.status, JSON.stringify(extended.body)).toBe(201);
    expect(extended.body).toMatchObject({ status: 'extended', kind: 'extension', decided_by: null });
    expect((await row(submitted.body.id)).expires_at).toBe(expiresAt + 60 * MIN);
    const audit = await db().selectFrom('audit_events').select(['action', 'actor_type', 'data']).where('request_id', '=', submitted.body.id).where('action', '=', 'access_request.extended').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_type).toBe('system');
    expect(JSON.parse(audit[0]!.data as unknown as string)).toMatchObject({ auto: true, extension_id: extended.body.id, duration_mins: 60 });
  });

  it('revoking the grant cancels its pending extension, and an ended grant cannot be extended', async () => {
    const { id } = await activeGrant();
    const asked = await extend(id, { duration_mins: 60, ...reason });
    expect((await s.approver.client.post(`/api/v1/access-requests/${id}/revoke`, { reason: 'incident over' })).status).toBe(200);
    const ext = await row(asked.body.id);
    expect(ext.status).toBe('cancelled');
    expect(await actions(asked.body.id)).toEqual(['access_request.extension_requested', 'access_request.cancelled']);
    const late = await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {});
    expect(late.status).toBe(409);
    const again = await extend(id, { duration_mins: 60, ...reason });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('grant_not_active');
  });

  it('retiring what the grant stands on (the template disabled) cancels its pending extension', async () => {
    const { templateId, id } = await activeGrant();
    const asked = await extend(id, { duration_mins: 60, ...reason });
    expect((await server().admin.patch(`/api/v1/access-request-templates/${templateId}`, { enabled: false })).status).toBe(200);
    expect((await row(id)).status).toBe('revoked');
    expect((await row(asked.body.id)).status).toBe('cancelled');
    expect(await actions(asked.body.id)).toEqual(['access_request.extension_requested', 'access_request.cancelled']);
  });

  it('the worker cancels a pending extension whose grant ended while a decision held it', async () => {
    const { id } = await activeGrant();
    const asked = await extend(id, { duration_mins: 60, ...reason });
    // As if the grant ended while the extension row was locked (its ending skipped it).
    await db().updateTable('access_requests').set({ status: 'revoked' }).where('id', '=', id).execute();
    await server().app.services.requests.expireDueGrants();
    expect((await row(asked.body.id)).status).toBe('cancelled');
  });

  it('expiry cancels a pending extension; approving it afterwards is refused', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { id, expiresAt } = await activeGrant();
    const asked = await extend(id, { duration_mins: 60, ...reason });
    vi.setSystemTime(expiresAt + 1000);
    // Before the worker runs: the decision finds the grant over and cancels the extension itself.
    const late = await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('grant_not_active');
    expect((await row(asked.body.id)).status).toBe('cancelled');
    expect((await row(id)).expires_at).toBe(expiresAt);
    await server().app.services.requests.expireDueGrants();
    expect((await row(id)).status).toBe('expired');
  });

  it('one grant per template and person: a new request while one is active is refused with a pointer', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { templateId, id, expiresAt } = await activeGrant();
    const overlap = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(overlap.status).toBe(409);
    expect(overlap.body).toMatchObject({ code: 'grant_already_active', active_request_id: id, expires_at: new Date(expiresAt).toISOString() });
    expect(overlap.body.extend_url).toMatch(new RegExp(`/requests/${id}\\?extend=1$`));
    // Once the grant is due, a submission first expires it (the worker has not run), in the same transaction.
    vi.setSystemTime(expiresAt + 1000);
    const next = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(next.status, JSON.stringify(next.body)).toBe(201);
    expect((await row(id)).status).toBe('expired');
    expect(await grantGroup(id)).toBeUndefined();
  });

  it('a break-glass grant cannot be extended; break-glass first expires the own due grant of the template', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const responders = await createGroup(server(), 'ext-responders', [s.requester.id]);
    const templateId = await s.template({ ...EXTENDABLE, requester_group_ids: [responders], break_glass: true, break_glass_max_mins: 60, break_glass_review_mins: 120, custom_fields: [] });
    const glass = await s.requester.client.post('/api/v1/access-requests/break-glass', { template_id: templateId, justification: 'INC-9: primary down' });
    expect(glass.status, JSON.stringify(glass.body)).toBe(201);
    const refused = await extend(glass.body.id, { duration_mins: 60, ...reason });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('break_glass_not_extendable');
    expect((await s.requester.client.get(`/api/v1/access-requests/${glass.body.id}`)).body.extension).toBeNull();
    // Once it is due (the worker has not run), breaking the glass again first ends it, in the same transaction.
    expect((await s.requester.client.post(`/api/v1/access-requests/${glass.body.id}/revoke`, { reason: 'done' })).status).toBe(200);
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId, { fields: {} }));
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    vi.setSystemTime(Date.parse(approved.body.expires_at) + 1000);
    const again = await s.requester.client.post('/api/v1/access-requests/break-glass', { template_id: templateId, justification: 'INC-10' });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect((await row(submitted.body.id)).status).toBe('expired');
  });

  it('the database holds one active grant per template and person', async () => {
    const { templateId, id } = await activeGrant();
    const copy = { ...(await row(id)), id: '01972f4e-8c1a-7b3e-9a10-00000000beef' };
    await expect(db().insertInto('access_requests').values(copy).execute()).rejects.toThrow();
    expect((await db().selectFrom('access_requests').select('id').where('template_id', '=', templateId).where('status', '=', 'approved').execute()).length).toBe(1);
  });

  it('the expiring_soon notice marks an extendable grant, so its link opens the extension form', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { id, expiresAt } = await activeGrant();
    const plain = await activeGrant({});
    vi.setSystemTime(expiresAt - 5 * MIN);
    await server().app.runWorkerOnce();
    const noticeOf = async (requestId: string) =>
      (await db().selectFrom('audit_events').select('data').where('request_id', '=', requestId).where('action', '=', 'access_request.expiring_soon').executeTakeFirstOrThrow()).data;
    expect(JSON.parse((await noticeOf(id)) as unknown as string)).toMatchObject({ extendable: true });
    expect(JSON.parse((await noticeOf(plain.id)) as unknown as string)).toMatchObject({ extendable: false });
    // After an extension the new end gets its own notice.
    const asked = await extend(id, { duration_mins: 60, ...reason });
    await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {});
    expect((await row(id)).expiring_notice_at).toBeNull();
  });

  it('trigger tasks see the extension events', async () => {
    const script = await server().admin.post('/api/v1/scripts', { name: `ext-${Date.now()}`, source: "log.info(config.get('trigger_event'));" });
    expect(script.status, JSON.stringify(script.body)).toBe(201);
    const { id } = await activeGrant({ ...EXTENDABLE, trigger: { script_id: script.body.id, failure_mode: 'ignore', max_retries: 0 } });
    const denied = await extend(id, { duration_mins: 60, ...reason });
    expect((await s.approver.client.post(`/api/v1/access-requests/${denied.body.id}/deny`, {})).status).toBe(200);
    const asked = await extend(id, { duration_mins: 60, ...reason });
    expect((await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {})).status).toBe(200);
    const triggered = async (requestId: string) =>
      (await server().admin.get(`/api/v1/deliveries?request_id=${requestId}&channel=trigger`)).body.items.map((d: { event_type: string }) => d.event_type);
    expect(await triggered(id)).toContain('access_request.extended');
    expect(await triggered(asked.body.id)).toContain('access_request.extension_requested');
    expect(await triggered(denied.body.id)).toContain('access_request.extension_denied');
  });

  it('tokens follow the moved expiry; a token capped at the old end simply refreshes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const who = s.secondApprover;
    const { id, expiresAt } = await activeGrant(EXTENDABLE, who);
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    await allowResource(server(), API, app.id);
    const config = await relyingParty(server(), app);
    vi.setSystemTime(expiresAt - 2 * MIN);
    const signedIn = await codeFlow(config, new Browser(server().url), app, { email: who.email, password: PASSWORD, params: { resource: API } });
    expect(signedIn.tokens.claims()).toMatchObject({ role: 'prod-admin' });
    // Capped at the old end.
    const first = await client.tokenIntrospection(config, signedIn.tokens.access_token);
    expect(first).toMatchObject({ active: true, role: 'prod-admin' });
    expect(first.exp! * 1000).toBeLessThanOrEqual(expiresAt);

    const asked = await extend(id, { duration_mins: 60, ...reason }, who);
    expect((await s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {})).status).toBe(200);
    const newEnd = expiresAt + 60 * MIN;

    // Issued after the extension: past the old end, within the new one.
    const after = await client.refreshTokenGrant(config, signedIn.tokens.refresh_token!, { resource: API });
    const jwt = decodeJwt(after.access_token) as { role: string; exp: number };
    expect(jwt.role).toBe('prod-admin');
    expect(jwt.exp * 1000).toBeGreaterThan(expiresAt);
    expect(jwt.exp * 1000).toBeLessThanOrEqual(newEnd);

    // Past the old end: the first token is over, a refresh carries on with the claim.
    vi.setSystemTime(expiresAt + 1000);
    expect((await client.tokenIntrospection(config, signedIn.tokens.access_token)).active).toBe(false);
    const refreshed = await client.refreshTokenGrant(config, after.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ role: 'prod-admin' });
    expect(await client.fetchUserInfo(config, refreshed.access_token, who.id)).toMatchObject({ role: 'prod-admin' });
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
    await server().app.services.requests.expireDueGrants();
    expect((await row(id)).status).toBe('approved');

    // Past the new end: gone.
    vi.setSystemTime(newEnd + 1000);
    const gone = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    expect(gone.claims()).not.toHaveProperty('role');
  });

  if (dialect === 'postgres') {
    it('worker expiry racing an extension approval at the end of a grant: exactly one takes effect (both orders)', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const outcomes = new Set<string>();
      // Each round starts a few milliseconds either side of the end, so either may come first.
      for (const offset of [-40, -15, -5, 0, 5, 15, -25, 10]) {
        const { id, expiresAt } = await activeGrant();
        const asked = await extend(id, { duration_mins: 60, ...reason });
        expect(asked.status).toBe(201);
        vi.setSystemTime(expiresAt + offset);
        const [approved] = await Promise.all([
          s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {}),
          server().app.services.requests.expireDueGrants(),
        ]);
        if (approved.status !== 200) await server().app.services.requests.expireDueGrants();
        const parent = await row(id);
        const ext = await row(asked.body.id);
        const group = await grantGroup(id);
        const events = await actions(id);
        if (approved.status === 200) {
          outcomes.add('extended');
          expect(ext.status).toBe('extended');
          expect(parent.expires_at).toBe(expiresAt + 60 * MIN);
          expect(group!.expires_at).toBe(expiresAt + 60 * MIN);
          if (parent.status === 'approved') expect(events).not.toContain('access_request.expired');
        } else {
          outcomes.add('expired');
          expect(approved.status).toBe(409);
          // The decision found the grant over (grant_not_active), or the expiry had cancelled the extension first.
          expect(['grant_not_active', 'request_not_pending']).toContain(approved.body.code);
          expect(ext.status).toBe('cancelled');
          expect(parent.status).toBe('expired');
          expect(parent.expires_at).toBe(expiresAt);
          expect(group).toBeUndefined();
          expect(events).not.toContain('access_request.extended');
        }
        expect(events.filter((e) => e === 'access_request.extended' || e === 'access_request.expired').length).toBeLessThanOrEqual(1);
      }
      // Rounds that started after the end always expire; those well before always extend.
      expect(outcomes).toEqual(new Set(['extended', 'expired']));
    });

    it('two extension requests at once: one opens, the other is refused', async () => {
      const { id } = await activeGrant();
      const results = await Promise.all(Array.from({ length: 4 }, () => extend(id, { duration_mins: 60, ...reason })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 201)) expect(r.body.code).toBe('extension_already_open');
    });

    it('approve racing revoke: the grant ends or is extended, never extended after revoke', async () => {
      const { id, expiresAt } = await activeGrant();
      const asked = await extend(id, { duration_mins: 60, ...reason });
      const [approved, revoked] = await Promise.all([
        s.approver.client.post(`/api/v1/access-requests/${asked.body.id}/approve`, {}),
        s.secondApprover.client.post(`/api/v1/access-requests/${id}/revoke`, { reason: 'done' }),
      ]);
      expect(revoked.status).toBe(200);
      await server().app.services.requests.expireDueGrants();
      const ext = await row(asked.body.id);
      expect((await row(id)).status).toBe('revoked');
      expect(await grantGroup(id)).toBeUndefined();
      if (approved.status === 200) expect(ext.status).toBe('extended');
      else {
        expect(approved.status).toBe(409);
        expect(ext.status).toBe('cancelled');
        expect((await row(id)).expires_at).toBe(expiresAt);
      }
    });
  }
}, { INTERIM_REQUESTS_PER_MINUTE: '1000' });
