import { createHmac } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { setSessionCookie } from '../http/auth.ts';
import { AppError } from '../http/errors.ts';
import type { AuthService } from '../modules/auth/auth.service.ts';
import { constantTimeEqual } from '../security/tokens.ts';
import { appSettings } from './clients.ts';
import { consentPage, errorPage, loginPage, messagePage, originOf, pageHeaders } from './views.ts';

export interface InteractionDeps {
  provider: Provider;
  auth: Pick<AuthService, 'signIn'>;
  config: Pick<Config, 'baseUrl' | 'session'>;
  /** Secret for the per-interaction form tokens. */
  csrfKey: Buffer;
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The interaction forms, as the browser sends them: one string per field. A repeated
 * field (an array), a number or an object (a JSON body) is a 400 page, never a 500.
 * The CSRF token may be missing here: formOk refuses that with 403.
 */
const csrfField = z.string().max(200).optional();
export const loginForm = z.object({ csrf: csrfField, email: z.string().max(320).default(''), password: z.string().max(1024).default('') });
export const consentForm = z.object({ csrf: csrfField, decision: z.enum(['approve', 'deny']).optional() });

/** Reasons that mean the client wants the user to type the password now, even with a live session. */
const FRESH_LOGIN_REASONS = new Set(['login_prompt', 'max_age']);
/** What the login page says to a user the MFA policy holds back (issue 15): the portal is where they enrol. */
const ENROL_FIRST = 'Your organisation requires a second factor. Add one on the portal’s account security page (Account, Sign-in security), then try again.';

/**
 * Our login and consent pages for oidc-provider's interactions, at /oidc/interaction/:uid.
 *
 * CSRF: both forms carry a token that is an HMAC of the interaction uid under a server
 * secret, checked in constant time; the interaction cookie they also need is SameSite=Lax
 * (so a cross-site POST arrives without it); and a POST whose Origin header names another
 * site is refused outright.
 */
export async function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): Promise<void> {
  const { provider, auth, config } = deps;
  const ownOrigin = new URL(config.baseUrl).origin;
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  const csrfFor = (uid: string) => createHmac('sha256', deps.csrfKey).update(`interaction:${uid}`).digest('base64url');
  /** A page; a form on it may post here and lead on (by redirects) to the client's redirect URI. */
  const render = (reply: FastifyReply, status: number, html: string, details?: Interaction) =>
    reply
      .code(status)
      .headers(pageHeaders({ formActions: details ? [ownOrigin, ...originOf(details.params.redirect_uri)] : [] }))
      .send(html);
  const unreadable = (reply: FastifyReply, details: Interaction) =>
    render(reply, 400, messagePage('Form not understood', 'The form was not sent as this page sends it. Go back, reload the page and try again.'), details);
  const expired = (reply: FastifyReply) =>
    render(reply, 400, messagePage('Sign-in expired', 'This sign-in request has expired or is not valid. Go back to the application and start again.'));

  async function load(request: FastifyRequest, reply: FastifyReply): Promise<Interaction | undefined> {
    const { uid } = request.params as { uid: string };
    try {
      const details = await provider.interactionDetails(request.raw, reply.raw);
      return details.uid === uid ? details : undefined;
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return undefined; // no interaction cookie, or the interaction is gone
      throw error;
    }
  }

  function formOk(request: FastifyRequest, uid: string, token: string | undefined): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin) return false;
    return typeof token === 'string' && constantTimeEqual(token, csrfFor(uid));
  }
  const refused = (reply: FastifyReply) => render(reply, 403, messagePage('Request refused', 'The form could not be verified. Go back and try again.'));

  async function clientName(details: Interaction): Promise<string> {
    const client = await provider.Client.find(String(details.params.client_id));
    return client?.clientName ?? 'an application';
  }

  async function finish(request: FastifyRequest, reply: FastifyReply, result: InteractionResults) {
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result);
    return reply.redirect(returnTo, 303);
  }

  const showLogin = async (reply: FastifyReply, details: Interaction, status = 200, extra: { email?: string; error?: string } = {}) =>
    render(
      reply,
      status,
      loginPage({
        action: `/oidc/interaction/${details.uid}/login`,
        csrf: csrfFor(details.uid),
        clientName: await clientName(details),
        email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined),
        error: extra.error,
      }),
      details,
    );

  const mustChangePassword = (reply: FastifyReply) =>
    render(
      reply,
      403,
      messagePage('Change your password first', 'Your password was set by an administrator. Change it in the Interim portal, then return to the application and sign in again.', {
        href: `${config.baseUrl}/`,
        label: 'Open the portal',
      }),
    );

  app.get('/oidc/interaction/:uid', { schema: { hide: true } }, async (request, reply) => {
    const details = await load(request, reply);
    if (!details) return expired(reply);

    if (details.prompt.name === 'login') {
      const actor = request.actor?.via === 'session' ? request.actor : null;
      const fresh = details.prompt.reasons.some((r) => FRESH_LOGIN_REASONS.has(r));
      if (actor && !fresh) {
        if (actor.mustChangePassword) return mustChangePassword(reply);
        if (actor.mfaEnrolmentRequired) return showLogin(reply, details, 403, { error: ENROL_FIRST });
        return finish(request, reply, { login: { accountId: actor.userId } });
      }
      return showLogin(reply, details);
    }

    if (details.prompt.name === 'consent') {
      const client = await provider.Client.find(String(details.params.client_id));
      if (!client) return expired(reply);
      // First-party applications never show consent. loadExistingGrant already granted what they
      // asked for; the prompt still comes when the client forces it (prompt=consent, which
      // oidc-provider requires for offline_access), and is approved here without a page.
      if (appSettings(client).firstParty) return finish(request, reply, { consent: { grantId: await saveGrant(details) } });
      const missing = details.prompt.details as { missingOIDCScope?: string[] };
      const resource = details.params.resource;
      return render(
        reply,
        200,
        consentPage({
          action: `/oidc/interaction/${details.uid}/consent`,
          csrf: csrfFor(details.uid),
          clientName: client.clientName ?? 'an application',
          scopes: (missing.missingOIDCScope ?? []).filter((s) => s !== 'openid'),
          resources: Array.isArray(resource) ? resource.map(String) : typeof resource === 'string' ? [resource] : [],
        }),
        details,
      );
    }
    return render(reply, 400, errorPage('unsupported interaction', details.prompt.name));
  });

  app.post('/oidc/interaction/:uid/login', { schema: { hide: true } }, async (request, reply) => {
    const details = await load(request, reply);
    if (!details) return expired(reply);
    const form = loginForm.safeParse(request.body ?? {});
    // The sign-in form again, so a person can simply try again.
    if (!form.success) return showLogin(reply, details, 400, { error: 'The form could not be read. Enter your email and password again.' });
    if (!formOk(request, details.uid, form.data.csrf)) return refused(reply);
    if (details.prompt.name !== 'login') return reply.redirect(`/oidc/interaction/${details.uid}`, 303);

    const { email, password } = form.data;
    let signedIn;
    try {
      signedIn = await auth.signIn(email, password, request.ip);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.status === 429) return showLogin(reply, details, 429, { email, error: 'Too many attempts. Wait a few minutes, then try again.' });
      return showLogin(reply, details, 401, { email, error: 'The email or password is not correct.' });
    }
    // A user with a second factor finishes on the portal's sign-in page for now (the OIDC login's own second step is issue 15's oidc-mfa part).
    if (signedIn.kind === 'second_factor') return showLogin(reply, details, 401, { email, error: 'This account uses a second factor. Sign in on the portal first, then try again.' });
    // One sign-in for both: the portal session cookie is set here too.
    setSessionCookie(reply, signedIn.sessionToken, config.session.absoluteMs);
    if (signedIn.user.must_change_password === 1) return mustChangePassword(reply);
    if (signedIn.mfaEnrolmentRequired) return showLogin(reply, details, 403, { email, error: ENROL_FIRST });
    return finish(request, reply, { login: { accountId: signedIn.user.id, amr: ['pwd'] } });
  });

  app.post('/oidc/interaction/:uid/consent', { schema: { hide: true } }, async (request, reply) => {
    const details = await load(request, reply);
    if (!details) return expired(reply);
    const form = consentForm.safeParse(request.body ?? {});
    if (!form.success) return unreadable(reply, details);
    if (!formOk(request, details.uid, form.data.csrf)) return refused(reply);
    if (details.prompt.name !== 'consent') return reply.redirect(`/oidc/interaction/${details.uid}`, 303);
    if (form.data.decision !== 'approve') {
      return finish(request, reply, { error: 'access_denied', error_description: 'the user denied the request' });
    }
    return finish(request, reply, { consent: { grantId: await saveGrant(details) } });
  });

  /** Grants what the consent prompt found missing, on the interaction's existing grant if there is one. */
  async function saveGrant(details: Interaction): Promise<string> {
    const accountId = details.session?.accountId;
    if (!accountId) throw new AppError(400, 'no_session', 'no signed-in user for this interaction');
    const clientId = String(details.params.client_id);
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) grant = new provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return grant.save();
  }
}
