import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { createPerson, PASSWORD } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { totpCodes } from './helpers/mfa-api.ts';
import { addVirtualAuthenticator } from './helpers/passkeys.ts';

await ensurePortalBuilt();

/** Passes the step-up dialog with an authenticator code. */
async function confirmWithCode(check: Locator, code: string) {
  await check.getByLabel('Code from your authenticator app, or a recovery code').fill(code);
  await check.getByRole('button', { name: 'Confirm with the code' }).click();
}

const signedIn = (page: Page) => page.getByRole('button', { name: 'Sign out' }).waitFor();
async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
}
async function password(page: Page, email: string) {
  await byLabel(page, 'Email').fill(email);
  await byLabel(page, 'Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Passkeys need a host name (never an IP address) as WebAuthn's RP id: the server's public URL is http://localhost:<port>. */
describeEachDialect(
  'second factors in the portal',
  (server, dialect) => {
    const shots = dialect === dialectsUnderTest()[0];
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });
    let minutes = 0;
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + ++minutes * 20 * 60_000);
    });
    afterEach(() => {
      vi.useRealTimers();
    });
    /** The next TOTP step: each code in a test is used a minute after the last. */
    const nextStep = () => vi.setSystemTime(Date.now() + 60_000);

    it('enrols a passkey, then signs in with password and passkey, and with the passkey alone', { timeout: 90_000 }, async () => {
      const p = await createPerson(server(), 'ada');
      const { context, page } = await newPerson(browser, server());
      await addVirtualAuthenticator(page);
      await signIn(page, p.email, PASSWORD, '/account');
      await page.getByRole('link', { name: 'manage your second factors' }).click();
      await page.getByRole('heading', { name: 'Sign-in security', level: 1 }).waitFor();
      await byLabel(page, 'Passkey name').fill('This laptop');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Passkey “This laptop” added' }).count()).toBe(1);
      const table = page.getByRole('table', { name: 'Your second factors' });
      await table.getByRole('cell', { name: 'This laptop', exact: true }).waitFor();
      expect(await table.getByText('signs in without a password').count()).toBe(1);
      const stored = await server().app.core.db.selectFrom('mfa_factors').select(['kind', 'passwordless']).where('user_id', '=', p.id).execute();
      expect(stored).toEqual([{ kind: 'webauthn', passwordless: 1 }]);

      await signOut(page);
      await password(page, p.email);
      await page.getByRole('heading', { name: 'Second step' }).waitFor();
      if (shots) await screenshot(page, 'mfa-second-factor', { dark: true });
      await page.getByRole('button', { name: 'Use your passkey' }).click();
      await signedIn(page);
      const [session] = await server().app.core.db.selectFrom('sessions').select('amr').where('user_id', '=', p.id).orderBy('created_at', 'desc').execute();
      expect(JSON.parse(session!.amr!)).toEqual(['pwd', 'hwk', 'user', 'mfa']);

      await signOut(page);
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await signedIn(page);
      const [alone] = await server().app.core.db.selectFrom('sessions').select('amr').where('user_id', '=', p.id).orderBy('created_at', 'desc').execute();
      expect(JSON.parse(alone!.amr!)).toEqual(['hwk', 'user']);
      await context.close();
    });

    it('enrols an authenticator app, makes recovery codes, and signs in with a code and with a recovery code', { timeout: 90_000 }, async () => {
      const p = await createPerson(server(), 'grace');
      const { context, page } = await newPerson(browser, server());
      await signIn(page, p.email, PASSWORD, '/account/security');
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const secret = (await page.getByTestId('totp-secret').textContent())!;
      expect(await page.getByText(/^otpauth:\/\/totp\//).count()).toBe(1);
      const code = totpCodes(server(), secret);
      await byLabel(page, 'Code from the app').fill(code());
      await page.getByRole('button', { name: 'Confirm the app' }).click();
      await page.getByRole('status').filter({ hasText: 'Authenticator app “Authenticator app” added' }).waitFor();

      await page.getByRole('button', { name: 'Make recovery codes' }).click();
      const list = page.getByRole('list', { name: 'Recovery codes' });
      await list.waitFor();
      const codes = await list.getByRole('listitem').allTextContents();
      expect(codes).toHaveLength(10);
      await page.getByText('9 of 10 left').or(page.getByText('10 of 10 left')).waitFor();
      if (shots) await screenshot(page, 'mfa-security', { dark: true, fullPage: true });
      await page.getByRole('button', { name: 'I have stored them' }).click();

      await signOut(page);
      await password(page, p.email);
      nextStep();
      await byLabel(page, 'Code from your authenticator app').fill(code());
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await signedIn(page);

      await signOut(page);
      await password(page, p.email);
      await page.getByRole('button', { name: 'Use a recovery code' }).click();
      await byLabel(page, 'Recovery code').fill('AAAA-BBBB-CCCC');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'did not check' }).waitFor();
      await byLabel(page, 'Recovery code').fill(codes[0]!);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await signedIn(page);
      await page.goto('/account/security');
      await page.getByText('9 of 10 left').waitFor();

      // The phone layout keeps the table and its buttons reachable.
      const phone = await newPerson(browser, server(), PHONE);
      await phone.context.addCookies(await context.cookies());
      await phone.page.goto('/account/security');
      await phone.page.getByRole('button', { name: /^Remove/ }).first().waitFor();
      // Every panel of the page fits the phone's width (the table scrolls inside its own box).
      expect(await phone.page.evaluate(() => [...document.querySelectorAll('main .panel')].every((p) => p.getBoundingClientRect().right <= window.innerWidth + 1))).toBe(true);
      await phone.context.close();
      await context.close();
    });

    it('lets an admin require a second factor, shows the enrolment page, resets a user and removes a factor with a step-up', { timeout: 90_000 }, async () => {
      const admin = await createPerson(server(), 'alice-admin', { isAdmin: true });
      const adminCode = (await enrolTotp(server(), admin.id)).code;
      const user = await createPerson(server(), 'bob');
      await enrolTotp(server(), user.id);
      const { context, page } = await newPerson(browser, server());
      await page.goto('/');
      await password(page, admin.email);
      await byLabel(page, 'Code from your authenticator app').fill(adminCode());
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await signedIn(page);

      // Reset Bob's factors: a confirm, then the admin's own step-up.
      await page.goto(`/admin/users/${user.id}`);
      await page.getByRole('button', { name: 'Reset second factors' }).click();
      await page.getByRole('dialog', { name: /Reset the second factors/ }).getByRole('button', { name: 'Reset', exact: true }).click();
      // The portal's one step-up dialog (components/StepUp.tsx), naming the act it checks.
      const check = page.getByRole('dialog', { name: 'Confirm with your second factor' });
      await check.getByText('This reset of someone’s second factors needs a fresh check').waitFor();
      nextStep();
      await confirmWithCode(check, adminCode());
      await page.getByRole('status').filter({ hasText: 'were reset' }).waitFor();
      expect(await server().app.core.db.selectFrom('mfa_factors').select('id').where('user_id', '=', user.id).execute()).toEqual([]);

      // Everyone must have a factor.
      await page.goto('/admin/security');
      await page.getByRole('radio', { name: /^Everyone/ }).check();
      await page.getByRole('button', { name: 'Save' }).click();
      await check.getByText('This change of the second-factor policy needs a fresh check').waitFor();
      nextStep();
      await confirmWithCode(check, adminCode());
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();

      // Bob, now without a factor, can only enrol.
      const bob = await newPerson(browser, server());
      await signIn(bob.page, user.email, PASSWORD);
      await bob.page.getByRole('heading', { name: 'Add a second factor' }).waitFor();
      await bob.page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const bobCode = totpCodes(server(), (await bob.page.getByTestId('totp-secret').textContent())!);
      await byLabel(bob.page, 'Code from the app').fill(bobCode());
      await bob.page.getByRole('button', { name: 'Confirm the app' }).click();
      await bob.page.getByRole('heading', { level: 1 }).filter({ hasNotText: 'Add a second factor' }).waitFor();
      expect(await bob.page.getByRole('heading', { name: 'Add a second factor' }).count()).toBe(0);
      await bob.context.close();

      // Back to optional.
      await page.getByRole('radio', { name: /^Optional/ }).check();
      await page.getByRole('button', { name: 'Save' }).click();
      nextStep();
      await confirmWithCode(check, adminCode());
      await expect.poll(async () => (await server().admin.get('/api/v1/settings/mfa-policy')).body.policy).toBe('off');

      // Removing one of two factors asks for the same dialog; Esc leaves the factor in place.
      const spare = await enrolTotp(server(), admin.id, 'Old phone');
      await page.goto('/account/security');
      const factors = page.getByRole('table', { name: 'Your second factors' });
      await factors.getByRole('button', { name: 'Remove Old phone' }).click();
      await check.getByText('This removal of a second factor needs a fresh check').waitFor();
      await page.keyboard.press('Escape');
      await expect.poll(() => check.isVisible()).toBe(false);
      await page.getByText('which was cancelled').waitFor();
      expect(await server().app.core.db.selectFrom('mfa_factors').select('id').where('id', '=', spare.factorId).execute()).toHaveLength(1);
      await factors.getByRole('button', { name: 'Remove Old phone' }).click();
      nextStep();
      await confirmWithCode(check, adminCode());
      await expect.poll(() => factors.getByRole('cell', { name: 'Old phone', exact: true }).count()).toBe(0);
      expect(await server().app.core.db.selectFrom('mfa_factors').select('id').where('id', '=', spare.factorId).execute()).toEqual([]);
      await context.close();
    });
  },
  { INTERIM_BASE_URL: 'http://localhost:{port}' },
);
