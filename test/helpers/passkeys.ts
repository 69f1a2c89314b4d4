import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestServer } from './server.ts';

/**
 * Chromium's virtual authenticator (the DevTools protocol's WebAuthn domain) for `page`:
 * a platform authenticator with discoverable credentials that verifies the user at once.
 */
export async function addVirtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
}

/**
 * Registers a discoverable passkey for a user with the virtual authenticator of `page`: the
 * registration ceremony of @simplewebauthn/server, run in a page of the server's origin with
 * the sign-in pages' passkey script (which carries @simplewebauthn/browser), checked here,
 * then stored through the mfa module. For tests that need a passkey but do not test
 * enrolment. Leaves the page on that script's URL.
 */
export async function registerPasskey(server: TestServer, page: Page, userId: string, email: string, opts: { passwordless?: boolean } = {}) {
  const rp = server.app.services.secondFactors.relyingParty;
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: email,
    attestationType: 'none',
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const scriptUrl = `${server.url}/oidc/assets/passkey.js`;
  await page.goto(scriptUrl);
  await page.evaluate((code) => (0, eval)(code), await (await fetch(scriptUrl)).text());
  const response = await page.evaluate(
    (optionsJSON) => (window as unknown as { SimpleWebAuthnBrowser: { startRegistration(o: { optionsJSON: unknown }): Promise<unknown> } }).SimpleWebAuthnBrowser.startRegistration({ optionsJSON }),
    options,
  );
  const verified = await verifyRegistrationResponse({ response: response as never, expectedChallenge: options.challenge, expectedOrigin: rp.origin, expectedRPID: rp.id });
  expect(verified.verified).toBe(true);
  const { credential } = verified.registrationInfo!;
  return server.app.services.secondFactors.addWebauthn(server.app.core.db, userId, 'Laptop', {
    id: credential.id,
    publicKey: credential.publicKey,
    counter: credential.counter,
    transports: credential.transports,
    passwordless: opts.passwordless ?? true,
  });
}
