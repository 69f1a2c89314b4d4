import { Secret } from 'otpauth';
import { totpOf } from '../../src/modules/mfa/index.ts';
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
