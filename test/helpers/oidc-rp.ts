import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import * as client from 'openid-client';
import { expect } from 'vitest';
import { isLoginForm, parseForm, type Browser, type Stop } from './oidc-browser.ts';
import type { AppFixture } from './oidc-fixtures.ts';
import type { TestServer } from './server.ts';

/** A relying party: openid-client v6 against the test server's issuer, over http loopback. */
export async function relyingParty(server: TestServer, app: AppFixture, alg = 'EdDSA', authMethod: 'basic' | 'post' = 'basic'): Promise<client.Configuration> {
  const auth = !app.secret ? client.None() : authMethod === 'post' ? client.ClientSecretPost(app.secret) : client.ClientSecretBasic(app.secret);
  return client.discovery(new URL(`${server.url}/oidc`), app.id, { id_token_signed_response_alg: alg }, auth, { execute: [client.allowInsecureRequests] });
}

export interface Authorization {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationRequest(config: client.Configuration, app: AppFixture, params: Record<string, string> = {}): Promise<Authorization> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: app.redirectUri,
    scope: 'openid email profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
    ...params,
  });
  return { url, verifier, state, nonce };
}

/** Fills in and submits the login form shown at `page`. */
export async function submitLogin(browser: Browser, page: Stop, email: string, password: string): Promise<Stop> {
  expect(isLoginForm(page.html)).toBe(true);
  const form = parseForm(page.html!);
  return browser.navigate(form.action, { form: { ...form.fields, email, password } });
}

/**
 * The whole front channel: authorization request → (login form) → (consent) → callback
 * → code exchange. Returns the tokens and the pages the browser saw on the way.
 */
export async function codeFlow(
  config: client.Configuration,
  browser: Browser,
  app: AppFixture,
  opts: { email?: string; password?: string; params?: Record<string, string>; tokenParams?: Record<string, string> } = {},
) {
  const auth = await authorizationRequest(config, app, opts.params);
  let stop = await browser.navigate(auth.url.href);
  const sawLoginForm = isLoginForm(stop.html);
  if (sawLoginForm) stop = await submitLogin(browser, stop, opts.email!, opts.password!);
  let sawConsent = false;
  if (stop.html && /name="decision"/.test(stop.html)) {
    sawConsent = true;
    const form = parseForm(stop.html);
    stop = await browser.navigate(form.action, { form: { ...form.fields, decision: 'approve' } });
  }
  if (!stop.leftTo) throw new Error(`the flow did not reach the callback (status ${stop.status}):\n${stop.html?.slice(0, 800)}`);
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(stop.leftTo),
    { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce },
    opts.tokenParams,
  );
  return { tokens, sawLoginForm, sawConsent };
}

const b64json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** Verifies a JWT's signature against the issuer's published JWKS; returns header and payload. */
export async function verifyJwt(server: TestServer, jwt: string) {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const header = b64json(h);
  const jwks = (await (await fetch(`${server.url}/oidc/jwks`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  expect(jwk, `kid ${String(header.kid)} is published`).toBeDefined();
  const key = createPublicKey({ key: jwk!, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const ok =
    header.alg === 'EdDSA'
      ? verify(null, data, key, signature)
      : header.alg === 'ES256'
        ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
        : verify('sha256', data, key, signature);
  expect(ok, 'signature verifies').toBe(true);
  return { header, payload: b64json(p) };
}

export const decodeJwt = (jwt: string) => b64json(jwt.split('.')[1]!);
