import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/security/ids.ts';
import { createPerson, PASSWORD } from './helpers/access-fixtures.ts';
import { ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { pollDeviceToken, runCli, signedInCli, startDeviceAuth } from './helpers/cli-session.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

await ensurePortalBuilt();

/** A P-256 passkey made here: its COSE public key (for mfa_factors) and its PKCS#8 private key (for the virtual authenticator). */
function passkey() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const y = Buffer.from(jwk.y!, 'base64url');
  // CBOR map {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
  const cose = Buffer.concat([Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), x, Buffer.from([0x22, 0x58, 0x20]), y]);
  return { id: randomBytes(16), cose, pkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }) };
}

// Passkeys need a host name as the relying party id (browsers refuse an IP address): this file's server runs at localhost.
for (const dialect of dialectsUnderTest()) describe(`portal in Chromium: command-line sign-ins [${dialect}]`, () => {
  let browser: Browser;
  let started: TestServer | undefined;
  const server = () => started!;
  beforeAll(async () => {
    const port = await freePort();
    started = await startTestServer(dialect, { INTERIM_PORT: String(port), INTERIM_BASE_URL: `http://localhost:${port}` });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await started?.close();
  });

  it('sends a signed-out user through the portal sign-in and back, then confirms the device sign-in with a passkey (virtual authenticator)', async () => {
    const user = await createPerson(server(), 'cli-passkey');
    const key = passkey();
    const now = Date.now();
    await server()
      .app.core.db.insertInto('mfa_factors')
      .values({
        id: newId(server().app.core.clock),
        user_id: user.id,
        kind: 'webauthn',
        name: 'Laptop',
        created_at: now,
        last_used_at: null,
        credential_id: key.id.toString('base64url'),
        public_key: key.cose.toString('base64url'),
        sign_count: 0,
        transports: JSON.stringify(['internal']),
        passwordless: 0,
        totp_secret: null,
        totp_last_step: null,
      })
      .execute();
    const { context, page } = await newPerson(browser, server());
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: { credentialId: key.id.toString('base64'), isResidentCredential: false, rpId: 'localhost', privateKey: key.pkcs8.toString('base64'), signCount: 0 },
    });

    // Not signed in yet: the device page sends the user through the portal's sign-in and back, with the code.
    const device = await startDeviceAuth(server());
    await page.goto(`/oidc/device?user_code=${device.body.user_code}`);
    await page.getByRole('heading', { name: 'Sign in to Interim first' }).waitFor();
    await page.getByRole('link', { name: 'Sign in to Interim' }).click();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The user has a passkey: the portal's sign-in asks for it as the second step.
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    await page.getByText('Only continue if you started this sign-in on your own computer just now').waitFor();
    await page.getByText(String(device.body.user_code)).waitFor();
    await page.getByLabel('Code from your authenticator app, or a recovery code').waitFor();
    if (dialect === dialectsUnderTest()[0]) await screenshot(page, 'cli-device-confirm');
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await page.getByText('is signed in').waitFor();
    const tokens = await pollDeviceToken(server(), String(device.body.device_code));
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const factor = await server().app.core.db.selectFrom('mfa_factors').select(['sign_count', 'last_used_at']).where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(Number(factor.sign_count)).toBeGreaterThan(0);
    await context.close();
  });

  it('lists the user’s command-line sign-ins and signs one out, which ends that terminal’s access', async () => {
    const user = await createPerson(server(), 'cli-portal');
    const first = await signedInCli(server(), user);
    const second = await signedInCli(server(), user);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, user.email, PASSWORD, '/account');

    const section = page.getByRole('region', { name: 'Command-line sign-ins' });
    const table = section.getByRole('table', { name: 'Your command-line sign-ins' });
    await table.waitFor();
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining(['Signed in', 'Last used', 'Ends']));
    expect(await table.getByRole('row').count()).toBe(3);
    if (dialect === dialectsUnderTest()[0]) await screenshot(page, 'portal-cli-devices', { dark: true, fullPage: true });

    // Keyboard: the button is reachable and shows focus.
    const signOut = section.getByRole('button', { name: 'Revoke command-line sign-in 1' });
    await signOut.focus();
    expect(await signOut.evaluate((el) => el === document.activeElement)).toBe(true);
    await signOut.click();
    await expect.poll(() => table.getByRole('row').count()).toBe(2);

    // One of the two terminals is signed out (exit 3), the other still works.
    const codes = [(await runCli(first, 'requests')).code, (await runCli(second, 'requests')).code];
    expect(codes.sort()).toEqual([0, 3]);
    expect((await user.client.get('/api/v1/me/devices')).body.items).toHaveLength(1);

    // The phone layout still shows the section.
    await page.setViewportSize(PHONE);
    await section.getByRole('button', { name: 'Revoke command-line sign-in 1' }).waitFor();
    await section.getByRole('button', { name: 'Revoke command-line sign-in 1' }).click();
    await section.getByText('No command-line sign-ins').waitFor();
    expect((await runCli(first, 'requests')).code).toBe(3);
    expect((await runCli(second, 'requests')).code).toBe(3);
    await context.close();
  });
});
