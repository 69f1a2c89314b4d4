import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { AppError } from '../http/errors.ts';
import type { AuthService } from '../modules/auth/auth.service.ts';
import type { FactorProof, SecondFactors } from '../modules/mfa/index.ts';
import { deviceChallenge, rememberConfirmError } from './device-flow.ts';
import { deviceSignInFirstPage } from './device-views.ts';
import { messagePage, pageHeaders } from './views.ts';

export const DEVICE_PATH = '/oidc/device';

/** The device form as the browser sends it: one string per field; anything else is a 400 page. */
const field = z.string().max(200).optional();
export const deviceForm = z.object({
  xsrf: field,
  user_code: field,
  confirm: field,
  abort: field,
  second_factor: z.string().max(64).optional(),
  /** A passkey assertion (PublicKeyCredential as JSON), from the page's passkey button. */
  webauthn: z.string().max(8000).optional(),
});

export interface DeviceConfirmDeps {
  db: Db;
  baseUrl: string;
  secondFactors?: Pick<SecondFactors, 'hasFactor' | 'verify'>;
  /** The sign-in throttle: second-factor answers here count against it as on the sign-in pages (sign-in-steps.ts). */
  auth: Pick<AuthService, 'throttledFactorCheck'>;
  /** Derives the confirm page's passkey challenge again (device-flow.ts deviceChallenge). */
  challengeKey?: Buffer;
  /** Hands the request, its form already read (`form`), to the provider (mount.ts). */
  forward(request: FastifyRequest, reply: FastifyReply, form: Record<string, string>): Promise<void>;
}

/** A six-digit answer is a TOTP code; anything else is taken as a recovery code. */
export const proofOf = (answer: string): FactorProof => (/^\d{6}$/.test(answer) ? { totp: answer } : { recovery_code: answer });

/**
 * POST /oidc/device, in front of the provider's own handler: a confirmation needs the
 * person signed in to the portal in this browser, and their second factor when they
 * have one (DESIGN "Assurance"), checked and spent here, before the provider binds the
 * code to them. A wrong or missing code goes on to the provider without `confirm`, so it
 * shows the confirm page again with the error. The provider's xsrf token and a foreign
 * Origin header refusal keep the form same-site, as on the sign-in pages.
 */
export async function deviceConfirmRoute(app: FastifyInstance, deps: DeviceConfirmDeps): Promise<void> {
  const ownOrigin = new URL(deps.baseUrl).origin;
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  const page = (reply: FastifyReply, status: number, html: string) => reply.code(status).headers(pageHeaders()).send(html);

  app.post(DEVICE_PATH, { schema: { hide: true } }, async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin) return page(reply, 403, messagePage('Request refused', 'The form could not be verified. Go back and try again.'));
    const parsed = deviceForm.safeParse(request.body ?? {});
    if (!parsed.success) return page(reply, 400, messagePage('Form not understood', 'The form was not sent as this page sends it. Go back, reload the page and try again.'));
    const { second_factor: answer, webauthn, ...rest } = parsed.data;
    const form = Object.fromEntries(Object.entries(rest).filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (form.confirm && !form.abort) {
      const actor = request.actor?.via === 'session' ? request.actor : null;
      if (!actor) return page(reply, 401, deviceSignInFirstPage(deps.baseUrl, form.user_code));
      const factors = deps.secondFactors;
      if (factors && (await factors.hasFactor(deps.db, actor.userId))) {
        const typed = answer?.trim() ?? '';
        const assertion = webauthn ? parseJson(webauthn) : undefined;
        const check = (proof: FactorProof, challenge: string | null) =>
          deps.auth.throttledFactorCheck(actor.userId, request.ip, async () => !!(await deps.db.transaction().execute((trx) => factors.verify(trx, actor.userId, proof, challenge))));
        let passed = false;
        let error: string | undefined;
        try {
          if (assertion !== undefined && deps.challengeKey) {
            passed = await check({ webauthn: assertion }, deviceChallenge(deps.challengeKey, form.xsrf ?? '', form.user_code ?? '', actor.userId));
          } else if (typed) {
            passed = await check(proofOf(typed), null);
          }
        } catch (thrown) {
          if (!(thrown instanceof AppError && thrown.status === 429)) throw thrown;
          error = 'Too many attempts. Wait a few minutes, then try again.';
        }
        if (!passed) {
          rememberConfirmError(
            request.raw,
            error ??
              (assertion !== undefined ? 'The passkey was not accepted. Try again, or type a code.' : typed ? 'That code is not correct, or was already used. Try the next one.' : 'Enter a code from your authenticator app, or a recovery code.'),
          );
          delete form.confirm;
        }
      }
    }
    return deps.forward(request, reply, form);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
