import * as client from 'openid-client';
import { afterEach, expect, it, vi } from 'vitest';
import { setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { addMember, createApp, createGroup, createMapping, createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import type { TestServer } from './helpers/server.ts';

let counter = 0;

/**
 * A user whose `roles` claim comes from two groups: `viewer` from staff and `deployer`
 * from oncall, plus `team` from staff. The user signs in and holds an opaque access token.
 */
async function signedInWithClaims(s: TestServer) {
  const tag = `${process.pid}-${++counter}`;
  const email = `live-claims-${tag}@example.test`;
  const userId = await createUser(s, email);
  const app = await createApp(s);
  const staff = await createGroup(s, `staff-${tag}`);
  const oncall = await createGroup(s, `oncall-${tag}`);
  await addMember(s, staff, userId);
  await addMember(s, oncall, userId);
  await createMapping(s, app.id, 'team', 'platform', [staff]);
  await createMapping(s, app.id, 'roles', ['viewer'], [staff]);
  const deployer = await createMapping(s, app.id, 'roles', ['deployer'], [oncall]);
  const config = await relyingParty(s, app);
  const { tokens } = await codeFlow(config, new Browser(s.url), app, { email, password: PASSWORD });
  const introspected = await client.tokenIntrospection(config, tokens.access_token);
  expect(introspected).toMatchObject({ active: true, roles: ['deployer', 'viewer'], team: 'platform' });
  return { userId, app, staff, oncall, deployer, config, tokens };
}

describeEachDialect('introspection and userinfo answer with the claims of now', (server) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const removals: Array<[string, (s: TestServer, f: Awaited<ReturnType<typeof signedInWithClaims>>) => Promise<void>]> = [
    ['a member is removed', async (s, f) => expect((await s.admin.delete(`/api/v1/groups/${f.oncall}/members/${f.userId}`)).status).toBe(204)],
    ['the group is deleted', async (s, f) => expect((await s.admin.delete(`/api/v1/groups/${f.oncall}`)).status).toBe(204)],
    ['the mapping is deleted', async (s, f) => expect((await s.admin.delete(`/api/v1/mappings/${f.deployer}`)).status).toBe(204)],
  ];

  for (const [what, remove] of removals) {
    it(`reports a live access token inactive once ${what}, and userinfo drops the value`, async () => {
      const s = server();
      const f = await signedInWithClaims(s);
      await remove(s, f);
      expect(await client.tokenIntrospection(f.config, f.tokens.access_token)).toEqual({ active: false });
      // Userinfo reads the claims of now too: the value is gone, the rest remain.
      const userinfo = await client.fetchUserInfo(f.config, f.tokens.access_token, f.userId);
      expect(userinfo).toMatchObject({ sub: f.userId, team: 'platform', roles: ['viewer'] });
      // A fresh token carries only what is left and is active.
      const refreshed = await client.refreshTokenGrant(f.config, f.tokens.refresh_token!);
      expect(await client.tokenIntrospection(f.config, refreshed.access_token)).toMatchObject({ active: true, roles: ['viewer'] });
    });
  }

  it('keeps a token active when the user keeps every value it carries, or gains one', async () => {
    const s = server();
    const f = await signedInWithClaims(s);
    // `viewer` also comes from oncall now; removing it from staff leaves the user every value.
    await createMapping(s, f.app.id, 'roles', ['viewer'], [f.oncall]);
    await createMapping(s, f.app.id, 'extra', true, [f.staff]);
    expect(await client.tokenIntrospection(f.config, f.tokens.access_token)).toMatchObject({ active: true });
    const other = await createGroup(s, `other-${process.pid}-${++counter}`);
    await addMember(s, other, f.userId);
    expect((await s.admin.delete(`/api/v1/groups/${other}/members/${f.userId}`)).status).toBe(204);
    expect(await client.tokenIntrospection(f.config, f.tokens.access_token)).toMatchObject({ active: true, roles: ['deployer', 'viewer'] });
  });

  it('reports a boolean that changed as stale', async () => {
    const s = server();
    const f = await signedInWithClaims(s);
    const flagGroup = await createGroup(s, `flag-${process.pid}-${++counter}`);
    await addMember(s, flagGroup, f.userId);
    const flag = await createMapping(s, f.app.id, 'break_glass', true, [flagGroup]);
    const fresh = await client.refreshTokenGrant(f.config, f.tokens.refresh_token!);
    expect(await client.tokenIntrospection(f.config, fresh.access_token)).toMatchObject({ active: true, break_glass: true });
    expect((await s.admin.delete(`/api/v1/mappings/${flag}`)).status).toBe(204);
    expect(await client.tokenIntrospection(f.config, fresh.access_token)).toEqual({ active: false });
  });

  it('refuses introspection and userinfo once the application is deleted', async () => {
    const s = server();
    const f = await signedInWithClaims(s);
    expect((await s.admin.delete(`/api/v1/applications/${f.app.id}`)).status).toBe(204);
    // The client itself is gone: it can no longer authenticate, and its tokens serve nothing.
    await expect(client.tokenIntrospection(f.config, f.tokens.access_token)).rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
    await expect(client.fetchUserInfo(f.config, f.tokens.access_token, f.userId)).rejects.toBeDefined();
  });

  it('reports inactive once the access grant behind the value is revoked or expires', async () => {
    const s = server();
    const a = await setUpAccess(s);
    const app = { id: a.appId, secret: a.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const config = await relyingParty(s, app);

    const grant = async (templateId: string) => {
      const submitted = await a.requester.client.post('/api/v1/access-requests', validRequest(templateId));
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      const approved = await a.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: a.requester.email, password: PASSWORD });
      expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, role: 'prod-admin' });
      return { id: submitted.body.id as string, approved: approved.body, tokens };
    };

    const revoked = await grant(a.templateId);
    expect((await a.requester.client.post(`/api/v1/access-requests/${revoked.id}/revoke`, { reason: 'done early' })).status).toBe(200);
    expect(await client.tokenIntrospection(config, revoked.tokens.access_token)).toEqual({ active: false });
    const afterRevoke = await client.fetchUserInfo(config, (await grantlessToken()).access_token, a.requester.id);
    expect(afterRevoke).not.toHaveProperty('role');

    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const expiring = await grant(a.templateId);
    vi.setSystemTime(Date.parse(expiring.approved.expires_at) + 1);
    expect(await client.tokenIntrospection(config, expiring.tokens.access_token)).toEqual({ active: false });
    const later = await client.refreshTokenGrant(config, expiring.tokens.refresh_token!);
    expect(await client.fetchUserInfo(config, later.access_token, a.requester.id)).not.toHaveProperty('role');

    async function grantlessToken() {
      return (await codeFlow(config, new Browser(s.url), app, { email: a.requester.email, password: PASSWORD })).tokens;
    }
  });
});
