import * as client from 'openid-client';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { addMember, createApp, createGroup, createMapping, createUser, PASSWORD, userWithMappedClaims } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty, verifyJwt } from './helpers/oidc-rp.ts';

const API = 'https://api.example.test';
const MIN = 60_000;

describeEachDialect('OIDC tokens and temporary access', (server) => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('caps every token at the temporary membership and drops its claims once it lapses', async () => {
    const s = server();
    const expiry = Date.now() + 2 * MIN;
    const { userId, app } = await userWithMappedClaims(s, 'capped@example.test', expiry);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: 'capped@example.test', password: PASSWORD, params: { resource: API } });

    expect(tokens.claims()).toMatchObject({ roles: ['admin', 'viewer'], break_glass: true });
    expect(tokens.expires_in).toBeLessThanOrEqual(120);
    expect(tokens.claims()!.exp * 1000).toBeLessThanOrEqual(expiry);
    const introspected = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspected.active).toBe(true);
    expect(introspected.exp! * 1000).toBeLessThanOrEqual(expiry);

    const forApi = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: API });
    const jwt = (await verifyJwt(s, forApi.access_token)).payload as { exp: number; roles: string[] };
    expect(jwt.roles).toEqual(['admin', 'viewer']);
    expect(jwt.exp * 1000).toBeLessThanOrEqual(expiry);

    // Past the membership's end: the old access token is inactive, the next refresh lacks the claims.
    vi.setSystemTime(expiry + 1000);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    const later = await client.refreshTokenGrant(config, forApi.refresh_token!);
    expect(later.claims()).toMatchObject({ sub: userId, team: 'platform', roles: ['viewer'] });
    expect(later.claims()).not.toHaveProperty('break_glass');
    // Only permanent values remain, so the token is no longer capped.
    expect(later.expires_in).toBe(3600);
    const userinfo = await client.fetchUserInfo(config, later.access_token, userId);
    expect(userinfo).toMatchObject({ roles: ['viewer'], team: 'platform' });
    expect(userinfo).not.toHaveProperty('break_glass');
    const laterIntrospection = await client.tokenIntrospection(config, later.access_token);
    expect(laterIntrospection).toMatchObject({ active: true, roles: ['viewer'] });
    const laterJwt = decodeJwt((await client.refreshTokenGrant(config, later.refresh_token!, { resource: API })).access_token);
    expect(laterJwt.roles).toEqual(['viewer']);
    expect(laterJwt).not.toHaveProperty('break_glass');
  });

  it('caps at the temporary TTL when the grant ends later, and never caps permanent claims', async () => {
    const s = server();
    const { app } = await userWithMappedClaims(s, 'long@example.test', Date.now() + 24 * 60 * MIN);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: 'long@example.test', password: PASSWORD });
    expect(tokens.expires_in).toBe(s.config.tempAccessTokenTtlSecs);

    const userId = await createUser(s, 'permanent@example.test');
    const permanentApp = await createApp(s, { accessTtl: 1800 });
    const group = await createGroup(s, 'permanent-only');
    await addMember(s, group, userId);
    await createMapping(s, permanentApp.id, 'team', 'core', [group]);
    const permanentRp = await relyingParty(s, permanentApp);
    const permanent = await codeFlow(permanentRp, new Browser(s.url), permanentApp, { email: 'permanent@example.test', password: PASSWORD });
    expect(permanent.tokens.claims()).toMatchObject({ team: 'core' });
    expect(permanent.tokens.expires_in).toBe(1800);
  });

  it('a temporary group (not only a membership) caps and expires the same way', async () => {
    const s = server();
    const expiry = Date.now() + 90_000;
    const userId = await createUser(s, 'tempgroup@example.test');
    const app = await createApp(s);
    const group = await createGroup(s, 'temp-group', expiry);
    await addMember(s, group, userId);
    await createMapping(s, app.id, 'roles', ['deployer'], [group]);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: 'tempgroup@example.test', password: PASSWORD });
    expect(tokens.claims()!.roles).toEqual(['deployer']);
    expect(tokens.expires_in).toBeLessThanOrEqual(90);

    vi.setSystemTime(expiry);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect((await client.refreshTokenGrant(config, tokens.refresh_token!)).claims()).not.toHaveProperty('roles');
  });

  it('ends refresh and introspection when the user is disabled or changes the password', async () => {
    const s = server();
    const app = await createApp(s);
    const config = await relyingParty(s, app);

    const disabledId = await createUser(s, 'disabled@example.test');
    const first = await codeFlow(config, new Browser(s.url), app, { email: 'disabled@example.test', password: PASSWORD });
    expect((await s.admin.patch(`/api/v1/users/${disabledId}`, { disabled: true })).status).toBe(200);
    await expect(client.refreshTokenGrant(config, first.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await client.tokenIntrospection(config, first.tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(config, first.tokens.refresh_token!)).active).toBe(false);

    await createUser(s, 'rotate@example.test');
    const browser = new Browser(s.url);
    const second = await codeFlow(config, browser, app, { email: 'rotate@example.test', password: PASSWORD });
    const portal = new ApiClient(s.url);
    expect((await portal.signIn('rotate@example.test', PASSWORD)).status).toBe(200);
    const changed = await portal.post('/api/v1/me/password', { current_password: PASSWORD, new_password: 'another long password' });
    expect(changed.status).toBe(204);
    await expect(client.refreshTokenGrant(config, second.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await client.tokenIntrospection(config, second.tokens.access_token)).active).toBe(false);
    // The browser's old sign-in no longer counts: the next authorization shows the form.
    const again = await codeFlow(config, browser, app, { email: 'rotate@example.test', password: 'another long password' });
    expect(again.sawLoginForm).toBe(true);
  });

  it('ends single sign-on when the portal session times out, though the provider session lives on', async () => {
    const s = server();
    await createUser(s, 'idle@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    await codeFlow(config, browser, app, { email: 'idle@example.test', password: PASSWORD });
    expect((await codeFlow(config, browser, app, {})).sawLoginForm).toBe(false);

    vi.setSystemTime(Date.now() + s.config.session.idleMs + MIN);
    expect(browser.cookie('interim_oidc_session')).toBeDefined();
    const again = await codeFlow(config, browser, app, { email: 'idle@example.test', password: PASSWORD });
    expect(again.sawLoginForm).toBe(true);
  });

  it('rotates refresh tokens and treats reuse of a spent one as theft', async () => {
    const s = server();
    await createUser(s, 'replay@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: 'replay@example.test', password: PASSWORD });
    const next = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse revokes the whole grant, so the newer token is dead too.
    await expect(client.refreshTokenGrant(config, next.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
