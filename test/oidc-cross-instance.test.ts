import { afterAll, beforeAll, expect, it } from 'vitest';
import { setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startInterim, type RunningInterim } from './helpers/interim-process.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp, createGroup, createMapping, createUser, PASSWORD, type AppFixture } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty } from './helpers/oidc-rp.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import type { TestServer } from './helpers/server.ts';

/**
 * Issue 11, target 7: whatever the token path keeps in process, a change made through one
 * Interim instance is visible to the very next token request on another instance over the
 * same database. Every change below goes through the in-process server's admin API; every
 * token request goes to a second `interim serve` process, which has served the same user
 * and application just before (so anything it might cache is warm), and is asked at once,
 * with no wait, after the change's response.
 */
describeEachDialect('changes through one instance reach the token path of another at once', (server) => {
  let second: RunningInterim | undefined;
  let secondUrl = '';
  let counter = 0;

  beforeAll(async () => {
    const s = server();
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    // The same issuer (INTERIM_BASE_URL), another port: one deployment behind a load balancer.
    second = await startInterim({ ...s.env!, INTERIM_PORT: String(port), INTERIM_BASE_URL: s.url, INTERIM_LOG_LEVEL: 'warn' });
  });

  afterAll(async () => {
    await second?.stop();
  });

  const basic = (app: AppFixture) => `Basic ${Buffer.from(`${encodeURIComponent(app.id)}:${encodeURIComponent(app.secret!)}`).toString('base64')}`;

  /** The token path of the second instance, as a relying party and a resource server call it. */
  const there = {
    async refresh(app: AppFixture, refreshToken: string, resource?: string) {
      const res = await fetch(`${secondUrl}/oidc/token`, {
        method: 'POST',
        headers: { authorization: basic(app), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...(resource ? { resource } : {}) }).toString(),
      });
      const body = (await res.json()) as Record<string, string> & { expires_in?: number };
      return { status: res.status, body, idClaims: body.id_token ? decodeJwt(body.id_token) : undefined };
    },
    async userinfo(accessToken: string) {
      const res = await fetch(`${secondUrl}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      return { status: res.status, body: res.ok ? ((await res.json()) as Record<string, unknown>) : {} };
    },
    async introspect(app: AppFixture, token: string) {
      const res = await fetch(`${secondUrl}/oidc/token/introspection`, {
        method: 'POST',
        headers: { authorization: basic(app), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      return { status: res.status, body: res.ok ? ((await res.json()) as Record<string, unknown>) : {} };
    },
  };

  /** Refreshes on the second instance and returns the new tokens; the rotated refresh token replaces the old. */
  async function refreshThere(session: { app: AppFixture; refreshToken: string; accessToken: string }) {
    const r = await there.refresh(session.app, session.refreshToken);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    session.refreshToken = r.body.refresh_token!;
    session.accessToken = r.body.access_token!;
    return r;
  }

  /** A user in `staff` (team = platform) with a signed-in session of a fresh application, warmed on the second instance. */
  async function signedIn(s: TestServer) {
    const tag = `${process.pid}-${++counter}`;
    const email = `cross-${tag}@example.test`;
    const userId = await createUser(s, email);
    const app = await createApp(s);
    const staff = await createGroup(s, `staff-${tag}`);
    const oncall = await createGroup(s, `oncall-${tag}`);
    expect((await s.admin.request('PUT', `/api/v1/groups/${staff}/members/${userId}`, {})).status).toBe(201);
    const team = await createMapping(s, app.id, 'team', 'platform', [staff]);
    const deployer = await createMapping(s, app.id, 'roles', ['deployer'], [oncall]);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email, password: PASSWORD });
    const session = { app, refreshToken: tokens.refresh_token!, accessToken: tokens.access_token };
    // Warm the second instance: a refresh, a userinfo and an introspection of this user and application.
    const warm = await refreshThere(session);
    expect(warm.idClaims).toMatchObject({ sub: userId, team: 'platform' });
    expect(warm.idClaims).not.toHaveProperty('roles');
    expect((await there.userinfo(session.accessToken)).body).toMatchObject({ sub: userId, team: 'platform' });
    expect((await there.introspect(app, session.accessToken)).body).toMatchObject({ active: true, team: 'platform' });
    return { userId, app, staff, oncall, team, deployer, session, tag };
  }

  it('memberships: added and removed on one instance, seen by the next refresh, userinfo and introspection on the other', async () => {
    const s = server();
    const f = await signedIn(s);
    expect((await s.admin.request('PUT', `/api/v1/groups/${f.oncall}/members/${f.userId}`, {})).status).toBe(201);
    const added = await refreshThere(f.session);
    expect(added.idClaims).toMatchObject({ team: 'platform', roles: ['deployer'] });
    expect((await there.userinfo(f.session.accessToken)).body).toMatchObject({ roles: ['deployer'] });
    const holding = f.session.accessToken;
    expect((await there.introspect(f.app, holding)).body).toMatchObject({ active: true, roles: ['deployer'] });

    expect((await s.admin.delete(`/api/v1/groups/${f.oncall}/members/${f.userId}`)).status).toBe(204);
    expect((await there.introspect(f.app, holding)).body).toEqual({ active: false });
    expect((await there.userinfo(holding)).body).not.toHaveProperty('roles');
    const removed = await refreshThere(f.session);
    expect(removed.idClaims).toMatchObject({ team: 'platform' });
    expect(removed.idClaims).not.toHaveProperty('roles');
  });

  it('groups: a deleted group stops its claims on the other instance at once', async () => {
    const s = server();
    const f = await signedIn(s);
    const holding = f.session.accessToken;
    expect((await s.admin.delete(`/api/v1/groups/${f.staff}`)).status).toBe(204);
    expect((await there.introspect(f.app, holding)).body).toEqual({ active: false });
    expect((await there.userinfo(holding)).body).not.toHaveProperty('team');
    expect((await refreshThere(f.session)).idClaims).not.toHaveProperty('team');
  });

  it('mappings: created, changed and deleted on one instance, reflected by the next token on the other', async () => {
    const s = server();
    const f = await signedIn(s);
    const created = await s.admin.post('/api/v1/mappings', { app_id: f.app.id, claim: 'tier', value: 'gold', group_ids: [f.staff] });
    expect(created.status).toBe(201);
    expect((await refreshThere(f.session)).idClaims).toMatchObject({ tier: 'gold', team: 'platform' });

    expect((await s.admin.patch(`/api/v1/mappings/${created.body.id}`, { value: 'silver' })).status).toBe(200);
    expect((await there.introspect(f.app, f.session.accessToken)).body).toEqual({ active: false });
    expect((await there.userinfo(f.session.accessToken)).body).toMatchObject({ tier: 'silver' });
    expect((await refreshThere(f.session)).idClaims).toMatchObject({ tier: 'silver' });

    expect((await s.admin.delete(`/api/v1/mappings/${f.team}`)).status).toBe(204);
    expect((await there.userinfo(f.session.accessToken)).body).not.toHaveProperty('team');
    expect((await refreshThere(f.session)).idClaims).not.toHaveProperty('team');
  });

  it('users: a new name is in the next userinfo, and a disabled user gets nothing, on the other instance', async () => {
    const s = server();
    const f = await signedIn(s);
    expect((await s.admin.patch(`/api/v1/users/${f.userId}`, { name: `Renamed ${f.tag}` })).status).toBe(200);
    expect((await there.userinfo(f.session.accessToken)).body).toMatchObject({ name: `Renamed ${f.tag}` });
    expect((await refreshThere(f.session)).idClaims).toMatchObject({ name: `Renamed ${f.tag}` });

    expect((await s.admin.patch(`/api/v1/users/${f.userId}`, { disabled: true })).status).toBe(200);
    const refused = await there.refresh(f.app, f.session.refreshToken);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect((await there.userinfo(f.session.accessToken)).status).not.toBe(200);
  });

  it('applications: settings, a rotated secret and a deletion take effect on the other instance at once', async () => {
    const s = server();
    const f = await signedIn(s);
    expect((await s.admin.patch(`/api/v1/applications/${f.app.id}`, { access_token_ttl_secs: 120 })).status).toBe(200);
    expect((await refreshThere(f.session)).body.expires_in).toBe(120);

    const rotated = await s.admin.post(`/api/v1/applications/${f.app.id}/client-secret`, {});
    expect(rotated.status).toBe(200);
    const old = await there.refresh(f.app, f.session.refreshToken);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    f.session.app = { ...f.app, secret: rotated.body.client_secret as string };
    await refreshThere(f.session);

    expect((await s.admin.delete(`/api/v1/applications/${f.app.id}`)).status).toBe(204);
    const gone = await there.refresh(f.session.app, f.session.refreshToken);
    expect(gone.status).toBe(401);
    expect(gone.body.error).toBe('invalid_client');
    expect((await there.userinfo(f.session.accessToken)).status).not.toBe(200);
  });

  // On PostgreSQL a refresh grant that names a resource reads the client, the token, the user, the
  // claims and the resource server in one statement: all of it must be as of this request.
  it('resource servers: a refresh for an API carries the claims of now, and stops at once when the application is unlinked on the other instance', async () => {
    const s = server();
    const tag = `${process.pid}-${++counter}`;
    const email = `cross-api-${tag}@example.test`;
    const userId = await createUser(s, email);
    const api = `https://api-cross-${tag}.example.test`;
    const app = await createApp(s, { resources: [] });
    const created = await s.admin.post('/api/v1/resource-servers', { audience: api, name: `Cross ${tag}`, app_ids: [app.id] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const staff = await createGroup(s, `staff-${tag}`);
    const oncall = await createGroup(s, `oncall-${tag}`);
    expect((await s.admin.request('PUT', `/api/v1/groups/${staff}/members/${userId}`, {})).status).toBe(201);
    await createMapping(s, app.id, 'team', 'platform', [staff]);
    await createMapping(s, app.id, 'roles', ['deployer'], [oncall]);
    const { tokens } = await codeFlow(await relyingParty(s, app), new Browser(s.url), app, { email, password: PASSWORD, params: { resource: api } });
    const f = { app, userId, oncall, session: { app, refreshToken: tokens.refresh_token!, accessToken: tokens.access_token } };
    const first = await there.refresh(f.app, f.session.refreshToken, api);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(decodeJwt(first.body.access_token!)).toMatchObject({ aud: api, sub: f.userId });
    expect(first.idClaims).toMatchObject({ team: 'platform' });
    expect(first.idClaims).not.toHaveProperty('roles');
    f.session.refreshToken = first.body.refresh_token!;

    expect((await s.admin.request('PUT', `/api/v1/groups/${f.oncall}/members/${f.userId}`, {})).status).toBe(201);
    const added = await there.refresh(f.app, f.session.refreshToken, api);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.idClaims).toMatchObject({ team: 'platform', roles: ['deployer'] });
    f.session.refreshToken = added.body.refresh_token!;

    expect((await s.admin.patch(`/api/v1/resource-servers/${created.body.id}`, { app_ids: [] })).status).toBe(200);
    const unlinked = await there.refresh(f.app, f.session.refreshToken, api);
    expect(unlinked.status).toBe(400);
    expect(unlinked.body.error).toBe('invalid_target');
  });

  it('grants: an approval and a revocation on one instance change the next token on the other', async () => {
    const s = server();
    const a = await setUpAccess(s);
    const app: AppFixture = { id: a.appId, secret: a.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: a.requester.email, password: PASSWORD });
    const session = { app, refreshToken: tokens.refresh_token!, accessToken: tokens.access_token };
    expect((await refreshThere(session)).idClaims).not.toHaveProperty('role');
    expect((await there.introspect(app, session.accessToken)).body).toMatchObject({ active: true });

    const submitted = await a.requester.client.post('/api/v1/access-requests', validRequest(a.templateId));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    expect((await a.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {})).status).toBe(200);
    expect((await refreshThere(session)).idClaims).toMatchObject({ role: 'prod-admin' });
    const holding = session.accessToken;
    expect((await there.userinfo(holding)).body).toMatchObject({ role: 'prod-admin' });

    expect((await a.requester.client.post(`/api/v1/access-requests/${submitted.body.id}/revoke`, { reason: 'done' })).status).toBe(200);
    expect((await there.introspect(app, holding)).body).toEqual({ active: false });
    // Revoking ends the application's tokens (DESIGN, reach of an ending): the refresh token is gone too.
    const after = await there.refresh(app, session.refreshToken);
    if (after.status === 200) expect(after.idClaims).not.toHaveProperty('role');
    else expect(after.body.error).toBe('invalid_grant');
  });
});
