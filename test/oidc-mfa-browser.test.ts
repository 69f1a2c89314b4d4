import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACR } from '../src/modules/mfa/index.ts';
import { launchBrowser, newPerson, screenshot } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { createApp, createUser, PASSWORD, type AppFixture } from './helpers/oidc-fixtures.ts';
import { authorizationRequest, relyingParty } from './helpers/oidc-rp.ts';
import { addVirtualAuthenticator, registerPasskey } from './helpers/passkeys.ts';
import type { TestServer } from './helpers/server.ts';

/** The application's callback: a loopback server that only says so (Chromium refuses the other tests' port 9). */
async function callbackReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const receiver = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('back at the application'));
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const { port } = receiver.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => receiver.close(() => done())) };
}

/**
 * Signing in to an application in Chromium with a passkey from the virtual authenticator:
 * after the password, and alone. The server's public URL is http://localhost:<port>, since
 * WebAuthn refuses an IP address as relying party.
 */
describeEachDialect(
  'OIDC sign-in with a passkey in Chromium',
  (server, dialect) => {
    const shots = dialect === dialectsUnderTest()[0];
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let rp: Awaited<ReturnType<typeof callbackReceiver>>;
    beforeAll(async () => {
      rp = await callbackReceiver();
      browser = await launchBrowser();
      ({ context, page } = await newPerson(browser, server()));
      await addVirtualAuthenticator(page);
    });
    afterAll(async () => {
      await browser?.close();
      await rp?.close();
    });

    /** Starts an authorization request in the page; returns what the code exchange needs. */
    async function authorize(s: TestServer, app: AppFixture, params: Record<string, string> = {}) {
      const config = await relyingParty(s, app);
      const auth = await authorizationRequest(config, app, params);
      await page.goto(auth.url.href);
      return {
        async tokens() {
          await page.waitForURL((url) => url.href.startsWith(`${rp.url}/callback`));
          return client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
        },
      };
    }

    it('signs in with the password and then a passkey, and with a passkey alone; the ID token says how', { timeout: 60_000 }, async () => {
      const s = server();
      expect(s.url).toMatch(/^http:\/\/localhost:\d+$/);
      const userId = await createUser(s, 'passkey@example.test');
      await enrolTotp(s, userId);
      const app = await createApp(s, { name: 'Team Wiki', redirectUri: `${rp.url}/callback` });

      await registerPasskey(s, page, userId, 'passkey@example.test');

      // Password, then the passkey.
      const first = await authorize(s, app);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
      if (shots) await screenshot(page, 'oidc-sign-in', { dark: true });
      await page.getByLabel('Email').fill('passkey@example.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      // The code field has the focus; the passkey button is a keyboard stop away.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('code');
      await page.getByLabel('Code from your authenticator app, or a recovery code').waitFor();
      if (shots) await screenshot(page, 'oidc-second-factor', { dark: true });
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      const twoSteps = (await first.tokens()).claims()!;
      expect(twoSteps).toMatchObject({ sub: userId, amr: ['pwd', 'hwk', 'user', 'mfa'], acr: ACR.phishingResistant });

      // A passkey alone, in a browser signed out of everything.
      await context.clearCookies();
      const second = await authorize(s, app);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      const passwordless = (await second.tokens()).claims()!;
      expect(passwordless).toMatchObject({ sub: userId, amr: ['hwk', 'user'], acr: ACR.phishingResistant });
      const sessions = await s.app.core.db.selectFrom('sessions').select('amr').where('user_id', '=', userId).orderBy('created_at').execute();
      expect(sessions.map((x) => JSON.parse(x.amr!))).toEqual([
        ['pwd', 'hwk', 'user', 'mfa'],
        ['hwk', 'user'],
      ]);
    });

    it('refuses to sign in with a passkey alone that its user registered as a second factor only', { timeout: 60_000 }, async () => {
      const s = server();
      const userId = await createUser(s, 'second-only@example.test');
      const app = await createApp(s, { redirectUri: `${rp.url}/callback` });
      // A browser of its own, so its authenticator holds only this passkey.
      const other = await newPerson(browser, s);
      await addVirtualAuthenticator(other.page);
      await registerPasskey(s, other.page, userId, 'second-only@example.test', { passwordless: false });
      const config = await relyingParty(s, app);
      await other.page.goto((await authorizationRequest(config, app)).url.href);
      await other.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await other.page.getByRole('alert').getByText('That passkey could not sign you in.').waitFor();
      expect(await s.app.core.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).toEqual([]);
      // As a second factor after the password it works.
      await other.page.getByLabel('Email').fill('second-only@example.test');
      await other.page.getByLabel('Password').fill(PASSWORD);
      await other.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await other.page.getByRole('button', { name: 'Use a passkey' }).click();
      await other.page.waitForURL((url) => url.href.startsWith(`${rp.url}/callback`));
      await other.context.close();
    });

    it('asks a password-only session for the passkey only when an application requires phishing-resistant', { timeout: 60_000 }, async () => {
      const s = server();
      const userId = await createUser(s, 'stepup-passkey@example.test');
      const app = await createApp(s, { redirectUri: `${rp.url}/callback` });
      await context.clearCookies();
      const plain = await authorize(s, app);
      await page.getByLabel('Email').fill('stepup-passkey@example.test');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      expect((await plain.tokens()).claims()).toMatchObject({ amr: ['pwd'], acr: ACR.password });

      await registerPasskey(s, page, userId, 'stepup-passkey@example.test');
      const up = await authorize(s, app, { acr_values: ACR.phishingResistant });
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      await page.getByText('requires a passkey: a code is not enough.').waitFor();
      expect(await page.getByLabel('Code from your authenticator app, or a recovery code').count()).toBe(0);
      await page.getByRole('button', { name: 'Use a passkey' }).focus();
      await page.keyboard.press('Enter');
      expect((await up.tokens()).claims()).toMatchObject({ sub: userId, amr: ['pwd', 'hwk', 'user', 'mfa'], acr: ACR.phishingResistant });
    });
  },
  { INTERIM_BASE_URL: 'http://localhost:{port}' },
);
