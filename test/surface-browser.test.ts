import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, newPerson } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { createApp, createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { authorizationRequest, relyingParty } from './helpers/oidc-rp.ts';

/**
 * The security headers in a real browser: swagger-ui still works under the docs CSP,
 * and the sign-in pages' form-action (which Chromium also checks against the redirects
 * a form post leads to) lets the flow reach a relying party on another origin, by
 * redirect and by form_post's auto-submitting page.
 */

/** A relying party's callback on its own loopback origin: records what arrives. */
async function startCallbackServer(): Promise<{ origin: string; received: { method: string; url: string; body: string }[]; server: Server }> {
  const received: { method: string; url: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>callback</title><p>back at the relying party</p>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

/** Collects every CSP violation the page reports. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) seen.push(message.text());
  });
  return seen;
}

describeEachDialect('security headers in Chromium', (server) => {
  let browser: Browser;
  let rp: Awaited<ReturnType<typeof startCallbackServer>>;
  beforeAll(async () => {
    browser = await launchBrowser();
    rp = await startCallbackServer();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => rp?.server.close(resolve));
  });

  // swagger-ui's bundle is large, and CI machines are busy: allow it time.
  it('renders the API reference under its CSP', { timeout: 90_000 }, async () => {
    const { context, page } = await newPerson(browser, server());
    context.setDefaultTimeout(40_000);
    const violations = cspViolations(page);
    await page.goto('/api/v1/docs');
    // Every tag is listed, folded (with more than a hundred operations, swagger-ui stops
    // rendering part-way when they all start unfolded).
    await page.locator('.opblock-tag').first().waitFor();
    expect(await page.locator('.opblock-tag').count()).toBeGreaterThan(15);
    // It works: a tag unfolds, an operation opens and shows its declared answers.
    await page.locator('.opblock-tag', { hasText: 'session' }).first().click();
    await page.locator('.opblock-summary').first().click();
    await page.locator('.opblock-body .responses-table').first().waitFor();
    // swagger-ui also sets one inline style attribute, which style-src 'self' blocks (as
    // @fastify/swagger-ui's own CSP does) with no visible effect. Nothing else is refused.
    expect(violations.filter((v) => !/^Applying inline style/.test(v))).toEqual([]);
    await context.close();
  });

  it('signs in to a relying party on another origin, by redirect and by form_post', { timeout: 60_000 }, async () => {
    const s = server();
    await createUser(s, 'chromium@example.test');
    const app = await createApp(s, { redirectUri: `${rp.origin}/callback` });
    const config = await relyingParty(s, app);
    for (const mode of ['query', 'form_post']) {
      const { context, page } = await newPerson(browser, s);
      const violations = cspViolations(page);
      const auth = await authorizationRequest(config, app, { response_mode: mode });
      await page.goto(auth.url.href);
      await page.getByLabel('Email').fill('chromium@example.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('back at the relying party').waitFor();
      const last = rp.received.filter((r) => r.url.startsWith('/callback')).at(-1)!;
      expect(last.method).toBe(mode === 'form_post' ? 'POST' : 'GET');
      const params = new URLSearchParams(mode === 'form_post' ? last.body : last.url.split('?')[1]);
      expect(params.get('code'), mode).toBeTruthy();
      expect(params.get('state')).toBe(auth.state);
      expect(violations).toEqual([]);

      // Sign-out leads (by redirect) to the registered post-logout URI: after the confirm page's
      // form, or, with an id_token_hint naming this user, after a form that submits itself
      // under the page's script nonce.
      const signedOut = page.waitForRequest((request) => request.url().startsWith('http://127.0.0.1:9/signed-out'));
      if (mode === 'query') {
        const tokens = await client.authorizationCodeGrant(config, new URL(`${rp.origin}${last.url}`), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
        await page.goto(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out', state: 'bye' }).href);
      } else {
        await page.goto(client.buildEndSessionUrl(config, { client_id: app.id, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out', state: 'bye' }).href);
        await page.getByRole('button', { name: 'Yes, sign out' }).click();
      }
      expect((await signedOut).url()).toBe('http://127.0.0.1:9/signed-out?state=bye');
      expect(violations).toEqual([]);
      await context.close();
    }
  });
});
