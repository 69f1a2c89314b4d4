import * as client from 'openid-client';
import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser, parseForm } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD, userWithMappedClaims } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty, verifyJwt } from './helpers/oidc-rp.ts';

const API = 'https://api.example.test';

describeEachDialect('OIDC clients', (server) => {
  it.each(['RS256', 'ES256'] as const)('honours id_token_signed_response_alg %s for ID and JWT access tokens', async (alg) => {
    const s = server();
    const { app } = await userWithMappedClaims(s, `alg-${alg}@example.test`, Date.now() + 3_600_000, { alg });
    const config = await relyingParty(s, app, alg);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, {
      email: `alg-${alg}@example.test`,
      password: PASSWORD,
      params: { resource: API },
      tokenParams: { resource: API },
    });
    expect((await verifyJwt(s, tokens.id_token!)).header.alg).toBe(alg);
    const at = await verifyJwt(s, tokens.access_token);
    expect(at.header.alg).toBe(alg);
    expect(at.payload).toMatchObject({ aud: API, roles: ['admin', 'viewer'] });
  });

  it('authenticates with client_secret_post and issues client-credentials tokens without user claims', async () => {
    const s = server();
    const app = await createApp(s, { authMethod: 'client_secret_post', grantTypes: ['client_credentials'], accessTtl: 600 });
    const config = await relyingParty(s, app, 'EdDSA', 'post');
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.expires_in).toBe(600);
    const introspected = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspected).toMatchObject({ active: true, client_id: app.id });
    expect(introspected.sub).toBeUndefined();

    const forApi = await client.clientCredentialsGrant(config, { resource: API });
    expect(decodeJwt(forApi.access_token)).toMatchObject({ sub: app.id, aud: API, client_id: app.id });
    await expect(client.clientCredentialsGrant(config, { resource: 'ftp://nope.example' })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('requires S256 PKCE from public clients', async () => {
    const s = server();
    await createUser(s, 'public@example.test');
    const app = await createApp(s, { authMethod: 'none' });
    const config = await relyingParty(s, app);
    const without = await new Browser(s.url).navigate(client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid' }).href);
    expect(new URL(without.leftTo!).searchParams.get('error')).toBe('invalid_request');
    const plain = await new Browser(s.url).navigate(
      client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }).href,
    );
    expect(new URL(plain.leftTo!).searchParams.get('error')).toBe('invalid_request');
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: 'public@example.test', password: PASSWORD });
    expect(tokens.access_token).toBeTruthy();
  });

  it('treats a deleted application as no client, and keeps introspection to the token owner', async () => {
    const s = server();
    await createUser(s, 'owner@example.test');
    const app = await createApp(s);
    const other = await createApp(s);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email: 'owner@example.test', password: PASSWORD });
    const otherRp = await relyingParty(s, other);
    expect((await client.tokenIntrospection(otherRp, tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true);

    await client.tokenRevocation(config, tokens.access_token);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);

    await s.app.core.db.updateTable('applications').set({ deleted_at: Date.now() }).where('id', '=', app.id).execute();
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
  });

  it('ends the portal session on OIDC logout', async () => {
    const s = server();
    await createUser(s, 'logout@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const { tokens } = await codeFlow(config, browser, app, { email: 'logout@example.test', password: PASSWORD });
    const portalCookie = browser.cookie('__Host-interim_session')!;
    const portal = new ApiClient(s.url);
    const asBrowser = () => portal.request('GET', '/api/v1/session', undefined, { cookie: `__Host-interim_session=${portalCookie}` });
    expect((await asBrowser()).status).toBe(200);

    const endUrl = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out', state: 'bye' });
    const confirm = await browser.navigate(endUrl.href);
    // A valid id_token_hint naming the signed-in user confirms by itself (an auto-submitting form).
    expect(confirm.html).toContain('Signing out');
    const form = parseForm(confirm.html!);
    const done = await browser.navigate(form.action, { form: { ...form.fields, logout: 'yes' } });
    expect(done.leftTo).toBe('http://127.0.0.1:9/signed-out?state=bye');
    expect((await asBrowser()).status).toBe(401);
    expect(browser.cookie('__Host-interim_session')).toBeUndefined();
    // Single sign-on is over: the next authorization asks for the password.
    const again = await codeFlow(config, browser, app, { email: 'logout@example.test', password: PASSWORD });
    expect(again.sawLoginForm).toBe(true);
  });
});
