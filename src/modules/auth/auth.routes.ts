import { z } from 'zod';
import type { Clock } from '../../clock.ts';
import { instant, toIso } from '../../http/schemas.ts';
import { requireActor, SESSION_COOKIE, setSessionCookie } from '../../http/auth.ts';
import type { HttpApp } from '../../http/types.ts';
import type { UsersService } from '../users/users.service.ts';
import { toUserOut } from '../users/users.service.ts';
import { changePasswordIn, updateMeIn, userOut } from '../users/users.types.ts';
import type { AuthService } from './auth.service.ts';

// server_time lets the portal show "3 min ago" by the server's clock, not a skewed laptop's.
const sessionOut = z.object({ user: userOut, csrf_token: z.string(), server_time: instant });

export function authRoutes(app: HttpApp, deps: { auth: AuthService; users: UsersService; sessionAbsoluteMs: number; clock: Clock }): void {
  app.post(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Sign in with email and password; sets the session cookie',
        body: z.strictObject({ email: z.string().max(320), password: z.string().max(1024) }),
        response: { 200: sessionOut },
      },
    },
    async (request, reply) => {
      const signedIn = await deps.auth.signIn(request.body.email, request.body.password, request.ip);
      setSessionCookie(reply, signedIn.sessionToken, deps.sessionAbsoluteMs);
      return { user: toUserOut(signedIn.user), csrf_token: signedIn.csrfToken, server_time: toIso(deps.clock.now()) };
    },
  );

  app.get(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'The signed-in user and the CSRF token for this session', response: { 200: sessionOut } } },
    async (request) => {
      const actor = requireActor(request, { allowPendingPasswordChange: true });
      const user = await deps.users.get(actor, actor.userId);
      const csrf = actor.sessionId ? await deps.auth.csrfTokenOf(actor.sessionId) : undefined;
      return { user: toUserOut(user), csrf_token: csrf ?? '', server_time: toIso(deps.clock.now()) };
    },
  );

  app.delete(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Sign out of the portal and of OIDC single sign-on (audited as session.ended)' } },
    async (request, reply) => {
      const actor = requireActor(request, { allowPendingPasswordChange: true });
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
    async (request) => toUserOut(await deps.users.updateMe(requireActor(request), request.body)),
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
