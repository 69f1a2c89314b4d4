import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { afterEach, expect, it, vi } from 'vitest';
import { ACR, recoveryCodeHash } from '../src/modules/mfa/index.ts';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { Browser, isLoginForm, parseForm, type Stop } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD, type AppFixture } from './helpers/oidc-fixtures.ts';
import { authorizationRequest, relyingParty, submitLogin, type Authorization } from './helpers/oidc-rp.ts';
import type { TestServer } from './helpers/server.ts';

const SESSION_COOKIE = '__Host-interim_session';
/** Small, so the throttle test reaches it quickly; each test has its own user (and so its own account key). */
const MAX_FAILURES = 3;

const isSecondStep = (html: string | undefined) => !!html && html.includes('Confirm it is you') && !isLoginForm(html);
const hasCodeField = (html: string | undefined) => !!html && /name="code"/.test(html);

/** The action of a form on the page whose action ends with `step` (second-factor, passkey, abort). */
function formFor(html: string, step: string) {
  const action = new RegExp(`action="([^"]*/${step})"`).exec(html)?.[1];
  if (!action) throw new Error(`no ${step} form on the page:\n${html.slice(0, 600)}`);
  return { action, fields: parseForm(html).fields };
}

interface Flow {
  s: TestServer;
  app: AppFixture;
  config: client.Configuration;
  browser: Browser;
  auth: Authorization;
  page: Stop;
}

/** An authorization request in `browser` (a new one unless given): the first page it shows. */
async function start(s: TestServer, app: AppFixture, params: Record<string, string> = {}, browser = new Browser(s.url)): Promise<Flow> {
  const config = await relyingParty(s, app);
  const auth = await authorizationRequest(config, app, params);
  return { s, app, config, browser, auth, page: await browser.navigate(auth.url.href) };
}

async function submitCode(flow: Flow, page: Stop, code: string): Promise<Stop> {
  const form = formFor(page.html!, 'second-factor');
  return flow.browser.navigate(form.action, { form: { ...form.fields, code } });
}

async function tokensOf(flow: Flow, stop: Stop) {
  if (!stop.leftTo) throw new Error(`the flow did not reach the callback (status ${stop.status}):\n${stop.html?.slice(0, 800)}`);
  return client.authorizationCodeGrant(flow.config, new URL(stop.leftTo), { pkceCodeVerifier: flow.auth.verifier, expectedState: flow.auth.state, expectedNonce: flow.auth.nonce });
}

/** A passkey row for HTTP tests that never assert with it (the browser test registers a real one). */
async function fakePasskey(s: TestServer, userId: string) {
  const publicKey = randomBytes(77);
  return s.app.services.secondFactors.addWebauthn(s.app.core.db, userId, 'Laptop', { id: randomBytes(16).toString('base64url'), publicKey, counter: 0, passwordless: true });
}

async function addRecoveryCode(s: TestServer, userId: string, code: string) {
  await s.app.core.db
    .insertInto('mfa_recovery_codes')
    .values({ id: newId(s.app.core.clock), user_id: userId, code_hash: recoveryCodeHash(code), created_at: Date.now() })
    .execute();
}

const sessionsOf = (s: TestServer, userId: string) => s.app.core.db.selectFrom('sessions').select(['id', 'amr']).where('user_id', '=', userId).execute();

describeEachDialect(
  'OIDC sign-in with a second factor',
  (server) => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('publishes the acr values and asks a user with TOTP for a code after the password: the ID token says pwd, otp, mfa', async () => {
      const s = server();
      const discovery = await (await fetch(`${s.url}/oidc/.well-known/openid-configuration`)).json();
      expect(discovery.acr_values_supported).toEqual([ACR.password, ACR.mfa, ACR.phishingResistant]);
      expect(discovery.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr']));
      expect(discovery.claims_parameter_supported).toBe(true);

      const userId = await createUser(s, 'totp@example.test');
      const totp = await enrolTotp(s, userId);
      const app = await createApp(s);
      const flow = await start(s, app);
      const second = await submitLogin(flow.browser, flow.page, 'totp@example.test', PASSWORD);
      expect(second.status).toBe(200);
      expect(isSecondStep(second.html)).toBe(true);
      expect(hasCodeField(second.html)).toBe(true);
      expect(second.html).not.toContain('id="passkey-form"'); // no passkey enrolled
      // The password alone opens no session.
      expect(flow.browser.cookie(SESSION_COOKIE)).toBeUndefined();
      expect(await sessionsOf(s, userId)).toEqual([]);

      const done = await submitCode(flow, second, totp.code());
      const tokens = await tokensOf(flow, done);
      const claims = tokens.claims()!;
      expect(claims.sub).toBe(userId);
      expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
      expect(claims.acr).toBe(ACR.mfa);
      // The portal session is set, and records how it was signed in.
      expect(flow.browser.cookie(SESSION_COOKIE)).toBeDefined();
      const sessions = await sessionsOf(s, userId);
      expect(sessions.map((x) => JSON.parse(x.amr!))).toEqual([['pwd', 'otp', 'mfa']]);
      const audit = await s.app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'session.created').where('target_id', '=', userId).execute();
      expect(JSON.parse(audit[0]!.data).amr).toEqual(['pwd', 'otp', 'mfa']);

      // The refreshed ID token keeps what the sign-in was.
      const refreshed = await client.refreshTokenGrant(flow.config, tokens.refresh_token!);
      expect(refreshed.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: ACR.mfa });
    });

    it('refuses a wrong code, counts it against the sign-in throttle, and accepts a recovery code once', async () => {
      const s = server();
      const userId = await createUser(s, 'wrongcode@example.test');
      const totp = await enrolTotp(s, userId);
      await addRecoveryCode(s, userId, 'ABCD-EFGH-JK');
      const app = await createApp(s);
      const flow = await start(s, app);
      let page = await submitLogin(flow.browser, flow.page, 'wrongcode@example.test', PASSWORD);
      for (let i = 0; i < MAX_FAILURES; i++) {
        page = await submitCode(flow, page, i === 0 ? '000000' : 'NOT-A-CODE');
        expect(page.status).toBe(401);
        expect(isSecondStep(page.html)).toBe(true);
        expect(page.html).toContain('the code is wrong or was already used');
      }
      const failed = await s.app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'session.sign_in_failed').where('target_id', '=', userId).execute();
      expect(failed.length).toBe(1); // one event per key and window
      // Over the limit even the right code waits.
      const throttled = await submitCode(flow, page, totp.code());
      expect(throttled.status).toBe(429);
      expect(throttled.html).toContain('Too many attempts');
      expect(await sessionsOf(s, userId)).toEqual([]);

      // The window ends: a recovery code (typed loosely) passes, once.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 16 * 60_000);
      const again = await start(s, app);
      const second = await submitLogin(again.browser, again.page, 'wrongcode@example.test', PASSWORD);
      const tokens = await tokensOf(again, await submitCode(again, second, ' abcd efgh jk '));
      expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: ACR.mfa });
      const third = await start(s, app);
      const refused = await submitCode(third, await submitLogin(third.browser, third.page, 'wrongcode@example.test', PASSWORD), 'ABCD-EFGH-JK');
      expect(refused.status).toBe(401);
    });

    it('refuses a code already used, even at the next sign-in', async () => {
      const s = server();
      const userId = await createUser(s, 'reuse@example.test');
      const totp = await enrolTotp(s, userId);
      const app = await createApp(s);
      const code = totp.code();
      const first = await start(s, app);
      const ok = await submitCode(first, await submitLogin(first.browser, first.page, 'reuse@example.test', PASSWORD), code);
      expect(ok.leftTo).toBeTruthy();
      const second = await start(s, app);
      const again = await submitCode(second, await submitLogin(second.browser, second.page, 'reuse@example.test', PASSWORD), code);
      expect(again.status).toBe(401);
      expect(again.leftTo).toBeUndefined();
    });

    it('signs in a user without a factor with the password alone: amr pwd, acr password', async () => {
      const s = server();
      const userId = await createUser(s, 'plain@example.test');
      const app = await createApp(s);
      const flow = await start(s, app);
      // The first page offers a passkey too, with our own script and no inline one.
      expect(flow.page.html).toContain('Sign in with a passkey');
      expect(flow.page.html).toContain('<script src="/oidc/assets/passkey.js"></script>');
      expect(flow.page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const script = await fetch(`${s.url}/oidc/assets/passkey.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(await script.text()).toContain('SimpleWebAuthnBrowser');

      const tokens = await tokensOf(flow, await submitLogin(flow.browser, flow.page, 'plain@example.test', PASSWORD));
      expect(tokens.claims()).toMatchObject({ sub: userId, amr: ['pwd'], acr: ACR.password });
      expect((await sessionsOf(s, userId)).map((x) => JSON.parse(x.amr!))).toEqual([['pwd']]);
    });

    it('steps a password-only session up for acr_values=mfa with the second factor only, then needs nothing more', async () => {
      const s = server();
      const userId = await createUser(s, 'stepup@example.test');
      const app = await createApp(s);
      const first = await start(s, app);
      const plain = await tokensOf(first, await submitLogin(first.browser, first.page, 'stepup@example.test', PASSWORD));
      expect(plain.claims()!.acr).toBe(ACR.password);
      const totp = await enrolTotp(s, userId);

      const up = await start(s, app, { acr_values: ACR.mfa }, first.browser);
      expect(isSecondStep(up.page.html)).toBe(true); // no password asked again
      const tokens = await tokensOf(up, await submitCode(up, up.page, totp.code()));
      expect(tokens.claims()).toMatchObject({ sub: userId, amr: ['pwd', 'otp', 'mfa'], acr: ACR.mfa });
      // The portal session was raised, not replaced, and the step-up is audited.
      expect((await sessionsOf(s, userId)).map((x) => JSON.parse(x.amr!))).toEqual([['pwd', 'otp', 'mfa']]);
      const audit = await s.app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'session.stepped_up').where('target_id', '=', userId).execute();
      expect(JSON.parse(audit[0]!.data).amr).toEqual(['pwd', 'otp', 'mfa']);

      // The same request again, or an essential acr claim: the session is strong enough now.
      const same = await start(s, app, { acr_values: ACR.mfa }, first.browser);
      expect(same.page.leftTo).toBeTruthy();
      expect((await tokensOf(same, same.page)).claims()!.acr).toBe(ACR.mfa);
      const essential = await start(s, app, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR.mfa } } }) }, first.browser);
      expect((await tokensOf(essential, essential.page)).claims()!.acr).toBe(ACR.mfa);
      // The claims parameter carries acr only.
      const other = await start(s, app, { claims: JSON.stringify({ id_token: { email: null } }) }, first.browser);
      expect(new URL(other.page.leftTo!).searchParams.get('error')).toBe('invalid_request');
    });

    it('reuses a portal session with its own amr, never more, and steps it up when an application asks', async () => {
      const s = server();
      const userId = await createUser(s, 'portal@example.test');
      const app = await createApp(s);
      // Signed in to the portal with the password alone, before the authenticator app was added.
      const portal = new ApiClient(s.url);
      expect((await portal.signIn('portal@example.test', PASSWORD)).status).toBe(200);
      const totp = await enrolTotp(s, userId);
      const browser = new Browser(s.url);
      const [name, value] = portal.cookieHeader.split('=') as [string, string];
      browser.setCookie(name, value);
      const reused = await start(s, app, {}, browser);
      expect((await tokensOf(reused, reused.page)).claims()).toMatchObject({ amr: ['pwd'], acr: ACR.password });

      const essential = await start(s, app, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.mfa, ACR.phishingResistant] } } }) }, browser);
      expect(isSecondStep(essential.page.html)).toBe(true);
      // The step-up holds only while that portal session does: without it, the step is gone (and the code not spent).
      browser.dropCookie(name);
      const orphan = await submitCode(essential, essential.page, totp.code());
      expect(orphan.status).toBe(400);
      expect(orphan.html).toContain('Sign-in step expired');
      browser.setCookie(name, value);
      const tokens = await tokensOf(essential, await submitCode(essential, essential.page, totp.code()));
      expect(tokens.claims()).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: ACR.mfa });
    });

    it('requires a passkey for phishing-resistant: a code is refused with a clear message, and without a passkey the application gets unmet_authentication_requirements', async () => {
      const s = server();
      const both = await createUser(s, 'both@example.test');
      const totp = await enrolTotp(s, both);
      await fakePasskey(s, both);
      const app = await createApp(s);
      const flow = await start(s, app, { acr_values: ACR.phishingResistant });
      const second = await submitLogin(flow.browser, flow.page, 'both@example.test', PASSWORD);
      expect(isSecondStep(second.html)).toBe(true);
      expect(hasCodeField(second.html)).toBe(false);
      expect(second.html).toContain('id="passkey-form"');
      expect(second.html).toContain('requires a passkey: a code is not enough.');
      // A code posted anyway is refused before it is checked (and so not spent).
      const csrf = formFor(second.html!, 'passkey').fields.csrf!;
      const code = totp.code();
      const refused = await flow.browser.navigate(`/oidc/interaction/${/interaction\/([^/]+)\//.exec(second.url)![1]}/second-factor`, { form: { csrf, code } });
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('requires a passkey: a code from an authenticator app or a recovery code is not enough.');
      const row = await s.app.core.db.selectFrom('mfa_factors').select('totp_last_step').where('user_id', '=', both).where('kind', '=', 'totp').executeTakeFirstOrThrow();
      expect(row.totp_last_step).toBeNull();

      // TOTP only, or nothing at all: the page says to add a passkey, and the application hears why.
      for (const [email, factor] of [
        ['totponly@example.test', true],
        ['nofactor@example.test', false],
      ] as const) {
        const userId = await createUser(s, email);
        if (factor) await enrolTotp(s, userId);
        const f = await start(s, app, { acr_values: factor ? ACR.phishingResistant : ACR.mfa });
        const unmet = await submitLogin(f.browser, f.page, email, PASSWORD);
        expect(unmet.status).toBe(403);
        expect(unmet.html).toContain(factor ? 'requires signing in with a passkey' : 'requires a second factor');
        expect(unmet.html).toContain(`<a href="${s.url}/account/security">Open the Interim portal to add a passkey</a>`);
        const abort = formFor(unmet.html!, 'abort');
        const back = await f.browser.navigate(abort.action, { form: abort.fields });
        const callback = new URL(back.leftTo!);
        expect(callback.searchParams.get('error')).toBe('unmet_authentication_requirements');
        expect(callback.searchParams.get('state')).toBe(f.auth.state);
      }
    });

    it('refuses the new forms without their token or from another origin, and answers bad input with a 400 page, never a 500', async () => {
      const s = server();
      const userId = await createUser(s, 'forms@example.test');
      const totp = await enrolTotp(s, userId);
      const app = await createApp(s);
      const flow = await start(s, app);
      const passkey = formFor(flow.page.html!, 'passkey');
      const second = await submitLogin(flow.browser, flow.page, 'forms@example.test', PASSWORD);
      const form = formFor(second.html!, 'second-factor');
      const abortUrl = form.action.replace(/second-factor$/, 'abort');
      for (const action of [form.action, passkey.action, abortUrl]) {
        expect((await flow.browser.navigate(action, { form: { code: totp.code(), webauthn: '{}' } })).status).toBe(403);
        const foreign = await flow.browser.navigate(action, { form: { ...form.fields, code: totp.code(), webauthn: '{}' }, headers: { origin: 'https://evil.example' } });
        expect(foreign.status).toBe(403);
      }
      const post = (action: string, body: string, type = 'application/x-www-form-urlencoded') =>
        fetch(new URL(action, s.url), { method: 'POST', headers: { 'content-type': type, cookie: flow.browser.cookieFor(action) }, body, redirect: 'manual' });
      const csrf = encodeURIComponent(form.fields.csrf!);
      const bad: [Promise<Response>, string | null][] = [
        [post(form.action, `csrf=${csrf}&code=123456&code=654321`), 'code'],
        [post(form.action, `csrf=${csrf}&csrf=${csrf}&code=123456`), 'csrf'],
        [post(form.action, JSON.stringify({ csrf: form.fields.csrf, code: 123456 }), 'application/json'), 'code'],
        [post(form.action, JSON.stringify({ csrf: form.fields.csrf, code: { $ne: '' } }), 'application/json'), 'code'],
        [post(form.action, `csrf=${csrf}&code=${'9'.repeat(65)}`), 'code'],
        [post(passkey.action, `csrf=${csrf}&webauthn=%7B&webauthn=%7D`), 'webauthn'],
        [post(passkey.action, `csrf=${csrf}&webauthn=not-json`), 'webauthn'],
        [post(passkey.action, `csrf=${csrf}&webauthn=%5B1%2C2%5D`), 'webauthn'],
        [post(passkey.action, JSON.stringify([1, 2]), 'application/json'), null],
      ];
      for (const [pending, field] of bad) {
        const res = await pending;
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        const html = await res.text();
        expect(html).toContain('Form not understood');
        if (field) expect(html).toContain(`its field “${field}”`);
      }
      // Without the interaction's cookie (another browser): the expired page, nothing checked.
      const stranger = await fetch(new URL(form.action, s.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}&code=123456`, redirect: 'manual' });
      expect(stranger.status).toBe(400);
      expect(await stranger.text()).toContain('Sign-in expired');
      // An empty code asks again; a made-up assertion is a failed attempt, not an error.
      const empty = await post(form.action, `csrf=${csrf}&code=`);
      expect(empty.status).toBe(400);
      expect(await empty.text()).toContain('Enter a code, or use your passkey.');
      const madeUp = await post(passkey.action, `csrf=${csrf}&webauthn=${encodeURIComponent(JSON.stringify({ id: 'nope', rawId: 'nope', type: 'public-key', response: {} }))}`);
      expect(madeUp.status).toBe(401);
      // The interaction still works.
      expect((await submitCode(flow, second, totp.code())).leftTo).toBeTruthy();
    });

    it('spends the pending step once: a replayed form after success, two answers at once, or an answer after 5 minutes are refused', async () => {
      const s = server();
      const userId = await createUser(s, 'once@example.test');
      const totp = await enrolTotp(s, userId);
      await addRecoveryCode(s, userId, 'RECOVERY-ONE');
      const app = await createApp(s);

      // Two answers at the same time, each valid on its own: exactly one finishes the sign-in.
      const flow = await start(s, app);
      const second = await submitLogin(flow.browser, flow.page, 'once@example.test', PASSWORD);
      const form = formFor(second.html!, 'second-factor');
      const post = (code: string) =>
        fetch(new URL(form.action, s.url), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: flow.browser.cookieFor(form.action) },
          body: new URLSearchParams({ csrf: form.fields.csrf!, code }).toString(),
          redirect: 'manual',
        });
      const answers = await Promise.all([post(totp.code()), post('RECOVERY-ONE'), post(totp.code())]);
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((x) => x === 303)).toHaveLength(1);
      expect(statuses.filter((x) => x !== 303).every((x) => x === 400 || x === 401)).toBe(true);
      // Whatever lost was given back: the recovery code is still there when the code won, and vice versa.
      const codes = await s.app.core.db.selectFrom('mfa_recovery_codes').select('id').where('user_id', '=', userId).execute();
      const totpRow = await s.app.core.db.selectFrom('mfa_factors').select('totp_last_step').where('user_id', '=', userId).executeTakeFirstOrThrow();
      expect((codes.length === 1) !== (totpRow.totp_last_step === null)).toBe(true);
      expect(await sessionsOf(s, userId)).toHaveLength(1);

      // The same form again after success: refused.
      const replay = await post(totp.code(1));
      expect(replay.status).toBe(400);

      // An answer after the 5 minutes: the step is gone.
      vi.useFakeTimers({ toFake: ['Date'] });
      const late = await start(s, app);
      const lateSecond = await submitLogin(late.browser, late.page, 'once@example.test', PASSWORD);
      vi.setSystemTime(Date.now() + 5 * 60_000 + 1000);
      const tooLate = await submitCode(late, lateSecond, totp.code());
      expect(tooLate.status).toBe(400);
      expect(tooLate.html).toContain('Sign-in step expired');
    });
  },
  { INTERIM_LOGIN_MAX_FAILURES: String(MAX_FAILURES) },
);
