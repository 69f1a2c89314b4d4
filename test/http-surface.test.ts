import * as client from 'openid-client';
import { expect, it } from 'vitest';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser, parseForm } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { authorizationRequest, codeFlow, relyingParty, submitLogin } from './helpers/oidc-rp.ts';

const TLS = { 'x-forwarded-proto': 'https' };

/** The headers every page we (or oidc-provider) render must carry. */
function expectPageHeaders(headers: Headers) {
  expect(headers.get('content-type')).toMatch(/^text\/html/);
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('same-origin');
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).not.toContain('unsafe-inline');
  return csp;
}

const directive = (csp: string, name: string) =>
  csp
    .split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith(`${name} `)) ?? '';

describeEachDialect('HTTP surface: API answers', (server) => {
  it('answers a new API token and a new client secret with no-store and nosniff', async () => {
    const s = server();
    const token = await s.admin.post('/api/v1/api-tokens', { name: 'headers' });
    expect(token.status).toBe(201);
    expect(token.body.token).toBeTruthy();
    expect(token.headers.get('cache-control')).toBe('no-store');
    expect(token.headers.get('x-content-type-options')).toBe('nosniff');

    const app = await createApp(s);
    const secret = await s.admin.post(`/api/v1/applications/${app.id}/client-secret`);
    expect(secret.status).toBe(200);
    expect(secret.headers.get('cache-control')).toBe('no-store');
    expect(secret.headers.get('x-content-type-options')).toBe('nosniff');

    // Errors too, signed in or not.
    const anonymous = await fetch(`${s.url}/api/v1/users`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('cache-control')).toBe('no-store');
    expect(anonymous.headers.get('x-content-type-options')).toBe('nosniff');
    // Without TLS there is no HSTS (and x-forwarded-proto is not trusted without INTERIM_TRUST_PROXY).
    expect(anonymous.headers.get('strict-transport-security')).toBeNull();
    const spoofed = await fetch(`${s.url}/healthz`, { headers: TLS });
    expect(spoofed.headers.get('strict-transport-security')).toBeNull();
  });

  it('serves the token endpoint, userinfo and introspection on the fast path, with the baseline headers and the request metric', async () => {
    const s = server();
    const app = await createApp(s);
    const basic = `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`;
    const form = { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };
    const metric = async () => {
      const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.adminToken}` } })).text();
      const count = (method: string, status: string) => Number(new RegExp(`interim_http_request_duration_seconds_count\\{method="${method}",route="/oidc/\\*",status="${status}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { post400: count('POST', '400'), post401: count('POST', '401'), get401: count('GET', '401'), post200: count('POST', '200') };
    };
    const before = { served: s.app.fastPath.served, metric: await metric() };
    const answers = [
      await fetch(`${s.url}/oidc/token`, { method: 'POST', headers: form, body: 'grant_type=refresh_token&refresh_token=x' }),
      await fetch(`${s.url}/oidc/token?x=1`, { method: 'POST', headers: form, body: 'grant_type=refresh_token&refresh_token=x' }),
      await fetch(`${s.url}/oidc/me`),
      await fetch(`${s.url}/oidc/me`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'access_token=x' }),
      await fetch(`${s.url}/oidc/token/introspection`, { method: 'POST', headers: form, body: 'token=x' }),
    ];
    expect(answers.map((r) => r.status)).toEqual([400, 400, 401, 401, 200]);
    for (const res of answers) {
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
      expect(res.headers.get('cache-control'), res.url).toBe('no-store');
      expect(res.headers.get('strict-transport-security'), res.url).toBeNull();
      await res.body?.cancel();
    }
    expect(((await fetch(`${s.url}/oidc/token/introspection`, { method: 'POST', headers: form, body: 'token=x' }).then((r) => r.json())) as { active: boolean }).active).toBe(false);
    expect(s.app.fastPath.served - before.served).toBe(6);
    // Everything else still goes through Fastify: other OIDC paths, other methods, a trailing slash.
    const others = [
      await fetch(`${s.url}/oidc/.well-known/openid-configuration`),
      await fetch(`${s.url}/oidc/token`),
      await fetch(`${s.url}/oidc/token/`, { method: 'POST', headers: form, body: 'grant_type=refresh_token&refresh_token=x' }),
      await fetch(`${s.url}/oidc/jwks`),
    ];
    for (const res of others) {
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
      await res.body?.cancel();
    }
    expect(s.app.fastPath.served - before.served).toBe(6);
    // The request metric counts the fast path's answers under the mount's route, as Fastify did.
    const after = await metric();
    expect(after.post400 - before.metric.post400).toBeGreaterThanOrEqual(2);
    expect(after.get401 - before.metric.get401).toBe(1);
    expect(after.post401 - before.metric.post401).toBe(1);
    expect(after.post200 - before.metric.post200).toBe(2);
  });

  it('answers an unknown method on an API path with 405 and allow, an unknown path with 404', async () => {
    const s = server();
    const put = await s.admin.request('PUT', '/api/v1/users', {});
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(put.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(put.body).toMatchObject({ status: 405, code: 'method_not_allowed' });
    const patchToken = await s.admin.request('PATCH', '/api/v1/api-tokens/0190a000-0000-7000-8000-000000000000', {});
    expect(patchToken.status).toBe(405);
    expect(patchToken.headers.get('allow')).toBe('DELETE');
    const unknown = await s.admin.get('/api/v1/no-such-thing');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('allow')).toBeNull();
    // Not signed in: the caller learns nothing about the route.
    expect((await fetch(`${s.url}/api/v1/users`, { method: 'PUT' })).status).toBe(401);
  });

  it('serves the API docs page with the portal headers, and the assets it names', async () => {
    const s = server();
    for (const path of ['/api/v1/docs', '/api/v1/docs/']) {
      const page = await fetch(`${s.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('cache-control')).toBe('no-store');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(directive(csp, 'script-src')).toBe("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      const html = await page.text();
      // Every script and stylesheet it loads is a file from this origin (no inline script the CSP would block).
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      for (const [, asset] of html.matchAll(/(?:src|href)="(\.\/static\/[^"]+)"/g)) {
        const res = await fetch(new URL(asset!, `${s.url}/api/v1/docs/`));
        expect(res.status, asset).toBe(200);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        // Read it all: an unread large body holds the connection open, and the server's close waits for it.
        await res.arrayBuffer();
      }
    }
  });
});

describeEachDialect(
  'HTTP surface: behind a TLS proxy',
  (server) => {
    it('sends strict-transport-security on every answer that came over TLS', async () => {
      const s = server();
      const app = await createApp(s);
      const basic = `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`;
      const served = s.app.fastPath.served;
      const answers = await Promise.all([
        fetch(`${s.url}/healthz`, { headers: TLS }),
        fetch(`${s.url}/api/v1/users`, { headers: TLS }), // 401
        fetch(`${s.url}/api/v1/session`, { method: 'PUT', headers: TLS }),
        fetch(`${s.url}/`, { headers: TLS }),
        fetch(`${s.url}/api/v1/docs/`, { headers: TLS }),
        fetch(`${s.url}/oidc/.well-known/openid-configuration`, { headers: TLS }),
        fetch(`${s.url}/oidc/token`, { method: 'POST', headers: { ...TLS, authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' }),
        fetch(`${s.url}/oidc/me`, { headers: TLS }),
        fetch(`${s.url}/oidc/me`, { method: 'POST', headers: TLS }),
        fetch(`${s.url}/oidc/token/introspection`, { method: 'POST', headers: { ...TLS, authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' }),
        fetch(`${s.url}/oidc/session/end`, { headers: TLS }),
        fetch(`${s.url}/oidc/interaction/nope`, { headers: TLS }),
        fetch(`${s.url}/api/v1/live`, { headers: { ...TLS, authorization: `Bearer ${s.adminToken}` } }), // hijacked, streaming
      ]);
      for (const res of answers) {
        expect(res.headers.get('strict-transport-security'), res.url).toBe('max-age=31536000');
        expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
        await res.body?.cancel();
      }
      // The token endpoint, userinfo (GET and POST) and introspection came through the fast path.
      expect(s.app.fastPath.served - served).toBe(4);
      const plain = await fetch(`${s.url}/oidc/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' });
      expect(plain.headers.get('strict-transport-security')).toBeNull();
      // A proxy chain: the last x-forwarded-proto counts, as Fastify reads it.
      const chained = await fetch(`${s.url}/oidc/me`, { headers: { 'x-forwarded-proto': 'https, http' } });
      expect(chained.headers.get('strict-transport-security')).toBeNull();
      const chainedFastify = await fetch(`${s.url}/healthz`, { headers: { 'x-forwarded-proto': 'http, https' } });
      expect(chainedFastify.headers.get('strict-transport-security')).toBe('max-age=31536000');
      expect(s.app.fastPath.served - served).toBe(6);
    });
  },
  { INTERIM_TRUST_PROXY: 'true' },
);

describeEachDialect('HTTP surface: pages oidc-provider renders', (server) => {
  it("gives the form_post page our headers, its script's hash and the client's origin as form target", async () => {
    const s = server();
    await createUser(s, 'formpost@example.test');
    const app = await createApp(s, { redirectUri: 'https://rp.example.test/callback' });
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const auth = await authorizationRequest(config, app, { response_mode: 'form_post' });
    const login = await browser.navigate(auth.url.href);
    // The login page may lead (by redirects) to the client's callback, and nowhere else.
    const loginCsp = expectPageHeaders(login.headers);
    expect(directive(loginCsp, 'form-action')).toBe(`form-action 'self' ${s.url} https://rp.example.test`);
    // Only our own static script (the passkey button), never an inline one.
    expect(directive(loginCsp, 'script-src')).toBe("script-src 'self'");

    const page = await submitLogin(browser, login, 'formpost@example.test', PASSWORD);
    expect(page.status).toBe(200);
    expect(page.html).toContain('action="https://rp.example.test/callback"');
    const csp = expectPageHeaders(page.headers);
    expect(directive(csp, 'form-action')).toBe("form-action 'self' https://rp.example.test");
    const script = /<script>([\s\S]*?)<\/script>/.exec(page.html!)![1]!;
    const { createHash } = await import('node:crypto');
    expect(directive(csp, 'script-src')).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
  });

  it('gives error pages and end-session pages our headers', async () => {
    const s = server();
    const unknownClient = await new Browser(s.url).navigate('/oidc/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb');
    expect(unknownClient.status).toBe(400);
    const errorCsp = expectPageHeaders(unknownClient.headers);
    // An unchecked redirect URI never becomes a form target.
    expect(directive(errorCsp, 'form-action')).toBe("form-action 'self'");

    // Nobody signed in: the provider's own auto-submitting page, with our headers.
    const nobody = await new Browser(s.url).navigate('/oidc/session/end');
    expect(nobody.status).toBe(200);
    expectPageHeaders(nobody.headers);
    const success = await new Browser(s.url).navigate('/oidc/session/end/success');
    expect(success.html).toContain('You have signed out');
    expectPageHeaders(success.headers);

    // Signed in: the confirm page.
    await createUser(s, 'endpage@example.test');
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    await codeFlow(config, browser, app, { email: 'endpage@example.test', password: PASSWORD });
    const confirm = await browser.navigate(client.buildEndSessionUrl(config, { client_id: app.id, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out' }).href);
    expect(confirm.html).toContain('Sign out?');
    const csp = expectPageHeaders(confirm.headers);
    expect(directive(csp, 'form-action')).toBe("form-action 'self' http://127.0.0.1:9");
    expect(parseForm(confirm.html!).action).toBe(`${s.url}/oidc/session/end/confirm`);
  });
});
