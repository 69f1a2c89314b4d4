import * as client from 'openid-client';
import { expect, it } from 'vitest';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser, isLoginForm, parseForm } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD, userWithMappedClaims } from './helpers/oidc-fixtures.ts';
import { authorizationRequest, codeFlow, relyingParty, submitLogin, verifyJwt } from './helpers/oidc-rp.ts';
import { ApiClient } from './helpers/api-client.ts';

const API = 'https://api.example.test';
const HOUR = 3_600_000;

describeEachDialect('OIDC authorization code flow', (server) => {
  it('serves discovery and a JWKS with EdDSA, ES256 and RS256 keys', async () => {
    const discovery = await (await fetch(`${server().url}/oidc/.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(`${server().url}/oidc`);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect([...discovery.id_token_signing_alg_values_supported].sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(discovery.token_endpoint_auth_methods_supported).not.toContain('client_secret_jwt');
    const jwks = await (await fetch(discovery.jwks_uri)).json();
    expect(jwks.keys.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(jwks.keys.every((k: Record<string, unknown>) => !('d' in k))).toBe(true);
  });

  it('signs in through the login form and releases mapped claims in every token', async () => {
    const s = server();
    const { userId, app } = await userWithMappedClaims(s, 'flow@example.test', Date.now() + 2 * HOUR);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const { tokens, sawLoginForm, sawConsent } = await codeFlow(config, browser, app, {
      email: 'flow@example.test',
      password: PASSWORD,
      params: { resource: API },
    });
    expect(sawLoginForm).toBe(true);
    expect(sawConsent).toBe(false); // first-party

    const expected = { team: 'platform', roles: ['admin', 'viewer'], break_glass: true };
    const idToken = tokens.claims()!;
    expect(idToken).toMatchObject({ sub: userId, email: 'flow@example.test', name: 'flow', ...expected });
    const { header } = await verifyJwt(s, tokens.id_token!);
    expect(header.alg).toBe('EdDSA');

    // The code exchange without a resource gives an opaque token for userinfo.
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, userId);
    expect(userinfo).toMatchObject({ sub: userId, email: 'flow@example.test', ...expected });

    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, sub: userId, client_id: app.id, ...expected });

    // A refresh with the resource indicator gives a JWT access token for the API.
    const forApi = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: API });
    const jwt = await verifyJwt(s, forApi.access_token);
    expect(jwt.header.typ).toBe('at+jwt');
    expect(jwt.payload).toMatchObject({ sub: userId, aud: API, client_id: app.id, ...expected });
    expect(forApi.claims()).toMatchObject(expected);
  });

  it('does not ask a user with a live portal session to sign in again', async () => {
    const s = server();
    const { app } = await userWithMappedClaims(s, 'sso@example.test', Date.now() + HOUR);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    await codeFlow(config, browser, app, { email: 'sso@example.test', password: PASSWORD });
    expect(browser.cookie('__Host-interim_session')).toBeDefined();
    const second = await codeFlow(config, browser, app, { params: { prompt: 'none', scope: 'openid' } });
    expect(second.sawLoginForm).toBe(false);

    // A portal sign-in alone (no OIDC session yet) is enough too.
    const portal = new ApiClient(s.url);
    expect((await portal.signIn('sso@example.test', PASSWORD)).status).toBe(200);
    const viaPortal = new Browser(s.url);
    const [name, value] = portal.cookieHeader.split('=') as [string, string];
    viaPortal.setCookie(name, value);
    const third = await codeFlow(config, viaPortal, app, {});
    expect(third.sawLoginForm).toBe(false);
  });

  it('sends a user who must change the password to the portal first', async () => {
    const s = server();
    const userId = await createUser(s, 'mustchange@example.test');
    await s.app.core.db.updateTable('users').set({ must_change_password: 1 }).where('id', '=', userId).execute();
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid', code_challenge: 'z'.repeat(43), code_challenge_method: 'S256' });
    const login = await browser.navigate(url.href);
    const form = parseForm(login.html!);
    const message = await browser.navigate(form.action, { form: { ...form.fields, email: 'mustchange@example.test', password: PASSWORD } });
    expect(message.status).toBe(403);
    expect(message.html).toContain('Change your password first');
    expect(message.leftTo).toBeUndefined();
    // The portal session exists (to change the password there), and it does not complete the login either.
    expect(browser.cookie('__Host-interim_session')).toBeDefined();
    const retry = await browser.navigate(url.href);
    expect(retry.html).toContain('Change your password first');
  });

  it('asks for consent for a third-party application, and honours a denial', async () => {
    const s = server();
    await createUser(s, 'consent@example.test');
    const app = await createApp(s, { firstParty: false, name: 'Third <Party>' });
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const { sawConsent } = await codeFlow(config, browser, app, { email: 'consent@example.test', password: PASSWORD });
    expect(sawConsent).toBe(true);

    const denied = new Browser(s.url);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid email', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const login = await denied.navigate(url.href);
    expect(login.html).toContain('Third &#60;Party&#62;');
    const form = parseForm(login.html!);
    const consent = await denied.navigate(form.action, { form: { ...form.fields, email: 'consent@example.test', password: PASSWORD } });
    const consentForm = parseForm(consent.html!);
    const done = await denied.navigate(consentForm.action, { form: { ...consentForm.fields, decision: 'deny' } });
    expect(new URL(done.leftTo!).searchParams.get('error')).toBe('access_denied');
  });

  it('shows the form again with one generic error for a wrong password, and refuses bad requests', async () => {
    const s = server();
    await createUser(s, 'wrong@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid', code_challenge: 'y'.repeat(43), code_challenge_method: 'S256' });
    const page = await browser.navigate(url.href);
    const form = parseForm(page.html!);
    for (const email of ['wrong@example.test', 'nobody@example.test']) {
      const again = await browser.navigate(form.action, { form: { ...form.fields, email, password: 'not the password' } });
      expect(again.status).toBe(401);
      expect(isLoginForm(again.html)).toBe(true);
      expect(again.html).toContain('The email or password is not correct.');
    }
    // A form without its token, or from another origin, is refused.
    expect((await browser.navigate(form.action, { form: { email: 'wrong@example.test', password: PASSWORD } })).status).toBe(403);
    const foreign = await browser.navigate(form.action, { form: { ...form.fields, email: 'wrong@example.test', password: PASSWORD }, headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);

    // Wrong client secret → invalid_client.
    const token = (authorization: string) =>
      fetch(`${s.url}/oidc/token`, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' });
    const wrong = await token(`Basic ${Buffer.from(`${app.id}:cs_not-the-secret`).toString('base64')}`);
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error).toBe('invalid_client');
    // The stored hash itself is not a secret that works.
    const hash = await s.app.core.db.selectFrom('applications').select('client_secret_hash').where('id', '=', app.id).executeTakeFirstOrThrow();
    expect((await token(`Basic ${Buffer.from(`${app.id}:${hash.client_secret_hash}`).toString('base64')}`)).status).toBe(401);
    // The right secret passes client authentication (and then the bogus refresh token fails).
    const right = await token(`Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`);
    expect((await right.json()).error).toBe('invalid_grant');
    // Unknown client → an error page, not a redirect.
    const unknown = await new Browser(s.url).navigate(`/oidc/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(app.redirectUri)}`);
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('invalid_client');
    // An interaction that does not exist (or another browser's) → the expired page.
    const stale = await new Browser(s.url).navigate('/oidc/interaction/not-a-real-uid');
    expect(stale.status).toBe(400);
    expect(stale.html).toContain('Sign-in expired');
    // Userinfo without a token → 401.
    expect((await fetch(`${s.url}/oidc/me`)).status).toBe(401);
  });
  it('answers a repeated, numeric or object form field on the interaction pages with a 400 page, never a 500', async () => {
    const s = server();
    await createUser(s, 'fields@example.test');
    const app = await createApp(s, { firstParty: false });
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const auth = await authorizationRequest(config, app, { scope: 'openid email' });
    const page = await browser.navigate(auth.url.href);
    const form = parseForm(page.html!);
    const post = (body: string, type: string) =>
      fetch(new URL(form.action, s.url), { method: 'POST', headers: { 'content-type': type, cookie: browser.cookieFor(form.action) }, body, redirect: 'manual' });
    const csrf = encodeURIComponent(form.fields.csrf!);
    const bad = [
      post(`csrf=${csrf}&email=a%40example.test&email=b%40example.test&password=x`, 'application/x-www-form-urlencoded'),
      post(`csrf=${csrf}&email=fields%40example.test&password=x&password=y`, 'application/x-www-form-urlencoded'),
      post(JSON.stringify({ csrf: form.fields.csrf, email: 42, password: PASSWORD }), 'application/json'),
      post(JSON.stringify({ csrf: form.fields.csrf, email: 'fields@example.test', password: { $ne: '' } }), 'application/json'),
      post(JSON.stringify([1, 2]), 'application/json'),
    ];
    for (const res of await Promise.all(bad)) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(isLoginForm(html)).toBe(true);
      expect(html).toContain('The form could not be read.');
    }
    // The interaction is still usable: the right form signs in, and the consent form is checked the same way.
    const consent = await browser.navigate(form.action, { form: { ...form.fields, email: 'fields@example.test', password: PASSWORD } });
    expect(consent.html).toContain('name="decision"');
    const consentForm = parseForm(consent.html!);
    const weird = await browser.navigate(consentForm.action, { form: { ...consentForm.fields, decision: 'maybe' } });
    expect(weird.status).toBe(400);
    expect(weird.html).toContain('Form not understood');
    const twice = await fetch(new URL(consentForm.action, s.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: browser.cookieFor(consentForm.action) },
      body: `csrf=${encodeURIComponent(consentForm.fields.csrf!)}&decision=approve&decision=deny`,
      redirect: 'manual',
    });
    expect(twice.status).toBe(400);
    const done = await browser.navigate(consentForm.action, { form: { ...consentForm.fields, decision: 'approve' } });
    expect(new URL(done.leftTo!).searchParams.get('code')).toBeTruthy();
  });

  it('asks before signing out a portal session that has no OIDC session, and keeps it on "no"', async () => {
    const s = server();
    await createUser(s, 'ask@example.test');
    const portal = new ApiClient(s.url);
    expect((await portal.signIn('ask@example.test', PASSWORD)).status).toBe(200);
    const browser = new Browser(s.url);
    const [name, value] = portal.cookieHeader.split('=') as [string, string];
    browser.setCookie(name, value);
    const stillSignedIn = async () => (await portal.get('/api/v1/session')).status === 200;

    const question = await browser.navigate('/oidc/session/end');
    expect(question.status).toBe(200);
    expect(question.html).toContain('Sign out?');
    expect(question.html).not.toContain('<script');
    expect(await stillSignedIn()).toBe(true);

    // "No, stay signed in" submits the form without logout=yes.
    const form = parseForm(question.html!);
    const stayed = await browser.navigate(form.action, { form: form.fields });
    expect(stayed.html).toContain('You have signed out of Interim'); // the provider's (empty) session ended, nothing else
    expect(await stillSignedIn()).toBe(true);

    const again = parseForm((await browser.navigate('/oidc/session/end')).html!);
    await browser.navigate(again.action, { form: { ...again.fields, logout: 'yes' } });
    expect(await stillSignedIn()).toBe(false);
  });

  it("asks when the id_token_hint names someone other than the signed-in user", async () => {
    const s = server();
    await createUser(s, 'hint-a@example.test');
    await createUser(s, 'hint-b@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const first = await codeFlow(config, new Browser(s.url), app, { email: 'hint-a@example.test', password: PASSWORD });
    const browser = new Browser(s.url);
    await codeFlow(config, browser, app, { email: 'hint-b@example.test', password: PASSWORD });
    const page = await browser.navigate(client.buildEndSessionUrl(config, { id_token_hint: first.tokens.id_token! }).href);
    expect(page.html).toContain('Sign out?');
    expect(page.html).not.toContain('<script');
  });

  it('accepts the authorization request as a form POST (OpenID Connect Core 3.1.2.1)', async () => {
    const s = server();
    await createUser(s, 'post@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const auth = await authorizationRequest(config, app);
    const browser = new Browser(s.url);
    const params = Object.fromEntries(auth.url.searchParams);
    const login = await browser.navigate('/oidc/auth', { form: params, headers: { origin: 'http://127.0.0.1:9' } });
    expect(login.status).toBe(200);
    expect(isLoginForm(login.html)).toBe(true);
    const callback = await submitLogin(browser, login, 'post@example.test', PASSWORD);
    const tokens = await client.authorizationCodeGrant(config, new URL(callback.leftTo!), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
    expect(tokens.claims()?.email).toBe('post@example.test');

    // A repeated parameter is refused as it is by GET; a body that is not a form is refused.
    const repeated = new URLSearchParams(params);
    repeated.append('scope', 'openid');
    const dup = await fetch(`${s.url}/oidc/auth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: repeated.toString(), redirect: 'manual' });
    expect(dup.status).toBe(303);
    expect(new URL(dup.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const json = await fetch(`${s.url}/oidc/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
    expect(json.status).toBe(415);
  });
});
