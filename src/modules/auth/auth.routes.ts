import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import { instant, toIso } from '../../http/schemas.ts';
import { requireActor, SESSION_COOKIE, setSessionCookie } from '../../http/auth.ts';
import type { HttpApp } from '../../http/types.ts';
import type { UsersService } from '../users/users.service.ts';
import { toUserOut } from '../users/users.service.ts';
import { changePasswordIn, updateMeIn, userOut } from '../users/users.types.ts';
import { passkeyOptionsOut, passkeySignInIn, secondFactorIn, secondFactorRequiredOut, type FactorProof } from '../mfa/index.ts';
import type { AuthService, SignedIn } from './auth.service.ts';

// server_time lets the portal show "3 min ago" by the server's clock, not a skewed laptop's.
const sessionOut = z.object({
  user: userOut,
  csrf_token: z.string(),
  server_time: instant,
  amr: z.array(z.string()).optional().describe('How this session signed in (RFC 8176): pwd, otp, hwk, user, mfa'),
  mfa_enrolment_required: z.boolean().optional().describe('The MFA policy covers you and you have no factor: enrol one before anything else'),
});

export function authRoutes(app: HttpApp, deps: { auth: AuthService; users: UsersService; sessionAbsoluteMs: number; clock: Clock }): void {
  app.post(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary:
          'Sign in with email and password; sets the session cookie. For a user with a second factor, no session yet: a one-time `pending` token (5 minutes) for POST /api/v1/session/second-factor',
        body: z.strictObject({ email: z.string().max(320), password: z.string().max(1024) }),
        response: { 200: z.union([sessionOut, secondFactorRequiredOut]) },
      },
    },
    async (request, reply) => {
      const outcome = await deps.auth.signIn(request.body.email, request.body.password, request.ip);
      if (outcome.kind === 'second_factor') {
        const { pending, methods, webauthn, expiresAt } = outcome;
        return { second_factor_required: true as const, pending, methods, webauthn: webauthn as unknown as Record<string, unknown> | null, expires_at: toIso(expiresAt) };
      }
      return signedInReply(reply, outcome);
    },
  );

  function signedInReply(reply: FastifyReply, signedIn: SignedIn) {
    setSessionCookie(reply, signedIn.sessionToken, deps.sessionAbsoluteMs);
    return { user: toUserOut(signedIn.user), csrf_token: signedIn.csrfToken, server_time: toIso(deps.clock.now()), amr: signedIn.amr, mfa_enrolment_required: signedIn.mfaEnrolmentRequired === true };
  }

  app.post(
    '/api/v1/session/second-factor',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Finish a sign-in with a second factor (a passkey assertion, a TOTP code or a recovery code); sets the session cookie. A wrong factor counts like a wrong password',
        body: secondFactorIn,
        response: { 200: sessionOut },
      },
    },
    async (request, reply) => {
      const { pending, ...proof } = request.body;
      return signedInReply(reply, await deps.auth.completeSecondFactor(pending, proof as FactorProof, request.ip));
    },
  );

  app.post(
    '/api/v1/session/passkey/options',
    { config: { public: true }, schema: { tags: ['session'], summary: 'A one-time challenge (5 minutes) for signing in with a passkey alone', response: { 200: passkeyOptionsOut } } },
    async () => {
      const issued = await deps.auth.passkeyOptions();
      return { challenge_id: issued.challengeId, webauthn: issued.options as unknown as Record<string, unknown>, expires_at: toIso(issued.expiresAt) };
    },
  );

  app.post(
    '/api/v1/session/passkey',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Sign in with a passkey alone (one registered as passwordless, with user verification); sets the session cookie',
        body: passkeySignInIn,
        response: { 200: sessionOut },
      },
    },
    async (request, reply) => signedInReply(reply, await deps.auth.signInWithPasskey(request.body.challenge_id, request.body.response, request.ip)),
  );

  app.get(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'The signed-in user and the CSRF token for this session', response: { 200: sessionOut } } },
    async (request) => {
      const actor = requireActor(request, { allowPendingPasswordChange: true, allowPendingEnrolment: true });
      const user = await deps.users.get(actor, actor.userId);
      const csrf = actor.sessionId ? await deps.auth.csrfTokenOf(actor.sessionId) : undefined;
      const amr = actor.sessionId ? await deps.auth.amrOfSession(actor.sessionId) : undefined;
      return { user: toUserOut(user), csrf_token: csrf ?? '', server_time: toIso(deps.clock.now()), amr, mfa_enrolment_required: actor.mfaEnrolmentRequired === true };
    },
  );

  app.delete(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Sign out of the portal and of OIDC single sign-on (audited as session.ended)' } },
    async (request, reply) => {
      const actor = requireActor(request, { allowPendingPasswordChange: true, allowPendingEnrolment: true });
      await deps.auth.signOut(actor, request.ip);
      reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
      return reply.status(204).send();
    },
  );

  app.patch(
    '/api/v1/me',
    {
      schema: {
        tags: ['session'],
        summary: "Change your own settings: time_zone, the IANA zone the portal shows times in (null: the browser's). Only ever your own account",
        body: updateMeIn,
        response: { 200: userOut },
      },
    },
    async (request) => toUserOut(await deps.users.updateMe(requireActor(request, { allowPendingEnrolment: true }), request.body)),
  );

  app.post(
    '/api/v1/me/password',
    {
      schema: {
        tags: ['session'],
        summary: 'Change your own password (it must differ from the current one); ends your other sessions, all your API tokens and your OIDC grants',
        body: changePasswordIn,
      },
    },
    async (request, reply) => {
      const actor = requireActor(request, { allowPendingPasswordChange: true });
      await deps.users.changeOwnPassword(actor, request.body.current_password, request.body.new_password);
      return reply.status(204).send();
    },
  );
}
