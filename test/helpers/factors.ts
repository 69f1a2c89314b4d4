import { generateRegistrationOptions, verifyRegistrationResponse, type RegistrationResponseJSON } from '@simplewebauthn/server';
import { Secret } from 'otpauth';
import type { Page } from 'playwright-core';
import { totpOf } from '../../src/modules/mfa/index.ts';
import { addVirtualAuthenticator } from './passkeys.ts';
import type { TestServer } from './server.ts';

/**
 * Gives a user a TOTP factor straight through the mfa module (what enrolment stores once the
 * first code checks), and returns codes for it at the server's clock: `code(stepOffset)` for
 * the current step or a neighbour. Tests that exercise enrolment itself use the API instead.
 */
export async function enrolTotp(server: TestServer, userId: string, name = 'Phone') {
  const secret = new Secret({ size: 20 }).base32;
  const factor = await server.app.services.secondFactors.addTotp(server.app.core.db, userId, name, secret);
  const totp = totpOf(secret);
  return {
    factorId: factor.id,
    secret,
    code: (stepOffset = 0) => totp.generate({ timestamp: server.app.core.clock.now() + stepOffset * 30_000 }),
  };
}

/** What compose.ts gives the requests services for step-up (requests/decision-step-up.ts), for tests that build a second service instance. */
export const assuranceOf = (server: TestServer) => ({ guard: server.app.services.stepUp.guard, hasFactor: server.app.services.secondFactors.hasFactor });

/**
 * Gives the signed-in user of `page` a passkey in Chromium's virtual authenticator (CDP's
 * WebAuthn domain): a real registration ceremony in the page, checked with
 * @simplewebauthn/server and stored through the mfa module. The page must be on the
 * server's origin (http://localhost:<port>: browsers refuse an IP address as RP id).
 */
export async function enrolPasskey(server: TestServer, page: Page, user: { id: string; email: string }, name = 'Laptop passkey') {
  await addVirtualAuthenticator(page);
  const rp = server.app.services.secondFactors.relyingParty;
  const options = await generateRegistrationOptions({
    rpName: 'Interim',
    rpID: rp.id,
    userName: user.email,
    userID: new TextEncoder().encode(user.id),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const response = await page.evaluate(async (json) => {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json as PublicKeyCredentialCreationOptionsJSON);
    const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
    return credential.toJSON();
  }, options);
  const verified = await verifyRegistrationResponse({ response: response as RegistrationResponseJSON, expectedChallenge: options.challenge, expectedOrigin: rp.origin, expectedRPID: rp.id });
  if (!verified.verified) throw new Error('the virtual authenticator registration did not verify');
  const { credential } = verified.registrationInfo;
  return server.app.services.secondFactors.addWebauthn(server.app.core.db, user.id, name, { ...credential, passwordless: true });
}
