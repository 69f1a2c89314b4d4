import { createHmac } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Executor } from '../db/database.ts';
import { setSessionCookie } from '../http/auth.ts';
import { AppError } from '../http/errors.ts';
import type { AuthService } from '../modules/auth/auth.service.ts';
import { ACR, acrOf } from '../modules/mfa/index.ts';
import { constantTimeEqual } from '../security/tokens.ts';
import { loginResult, meets, requiredAcr } from './acr.ts';
import { appSettings } from './clients.ts';
import { passkeyScript } from './passkey-script.ts';
import { signInSteps, type Interaction, type PageKit, type SignInStepDeps } from './sign-in-steps.ts';
import { consentPage, errorPage, messagePage, originOf, pageHeaders, PASSKEY_SCRIPT_PATH } from './views.ts';

export interface InteractionDeps {
  provider: Provider;
  auth: Pick<AuthService, 'checkPassword' | 'openSession' | 'throttledFactorCheck' | 'signInUser' | 'raiseSessionAmr' | 'sessionSignIn'>;
  config: Pick<Config, 'baseUrl' | 'session'>;
  /** Secret for the per-interaction form tokens. */
  csrfKey: Buffer;
  db: Executor;
  clock: Clock;
  secondFactors: SignInStepDeps['secondFactors'];
}

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
  const { provider, auth, config, db, clock, secondFactors } = deps;
  const ownOrigin = new URL(config.baseUrl).origin;
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  const csrfFor = (uid: string) => createHmac('sha256', deps.csrfKey).update(`interaction:${uid}`).digest('base64url');
  /** A page; a form on it may post here and lead on (by redirects) to the client's redirect URI. */
  const render = (reply: FastifyReply, status: number, html: string, details?: Interaction, opts: { ownScripts?: boolean } = {}) =>
    reply
      .code(status)
      .headers(pageHeaders({ formActions: details ? [ownOrigin, ...originOf(details.params.redirect_uri)] : [], ownScripts: opts.ownScripts }))
      .send(html);
  const unreadable = (reply: FastifyReply, details: Interaction, field?: string) =>
    render(
      reply,
      400,
      messagePage('Form not understood', `The form${field ? ` (its field “${field}”)` : ''} was not sent as this page sends it. Go back, reload the page and try again.`),
      details,
    );
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

  const mustChangePassword = (reply: FastifyReply) =>
    render(
      reply,
      403,
      messagePage('Change your password first', 'Your password was set by an administrator. Change it in the Interim portal, then return to the application and sign in again.', {
        href: `${config.baseUrl}/`,
        label: 'Open the portal',
      }),
    );

  const kit: PageKit = { load, formOk, csrfFor, render, refused, expired, unreadable, finish, clientName, mustChangePassword };
  const steps = signInSteps(app, { db, clock, auth, secondFactors, config }, kit);
  const { showLogin } = steps;

  // The passkey buttons' script: a static file, so the pages need no inline script.
  app.get(PASSKEY_SCRIPT_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(passkeyScript()),
  );

  app.get('/oidc/interaction/:uid', { schema: { hide: true } }, async (request, reply) => {
    const details = await load(request, reply);
    if (!details) return expired(reply);

    if (details.prompt.name === 'login') {
      const actor = request.actor?.via === 'session' ? request.actor : null;
      const fresh = details.prompt.reasons.some((r) => FRESH_LOGIN_REASONS.has(r));
      const session = actor?.sessionId && !fresh ? await auth.sessionSignIn(actor.sessionId) : undefined;
      if (actor && session) {
        if (actor.mustChangePassword) return mustChangePassword(reply);
        if (actor.mfaEnrolmentRequired) return showLogin(reply, details, 403, { error: ENROL_FIRST });
        // The live session, as it was signed in: never more than was done. Weaker than the
        // application requires: only the missing second factor is asked for.
        if (meets(acrOf(session.amr), requiredAcr(details.params))) return finish(request, reply, loginResult(actor.userId, session.amr, session.signedInAt));
        return steps.startSecondStep(reply, details, { userId: actor.userId, sessionId: actor.sessionId!, amr: session.amr });
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
    let checked;
    try {
      checked = await auth.checkPassword(email, password, request.ip);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.status === 429) return showLogin(reply, details, 429, { email, error: 'Too many attempts. Wait a few minutes, then try again.' });
      return showLogin(reply, details, 401, { email, error: 'The email or password is not correct.' });
    }
    const { user, passwordRehashed } = checked;
    // A user with a second factor always gives it; the session opens only then.
    if (checked.secondStep) return steps.startSecondStep(reply, details, { userId: user.id, sessionId: null, amr: ['pwd'] });
    // One sign-in for both: the portal session cookie is set here too.
    const signedIn = await auth.openSession(user, request.ip, ['pwd'], { passwordRehashed });
    setSessionCookie(reply, signedIn.sessionToken, config.session.absoluteMs);
    if (user.must_change_password === 1) return mustChangePassword(reply);
    if (signedIn.mfaEnrolmentRequired) return showLogin(reply, details, 403, { email, error: ENROL_FIRST });
    const required = requiredAcr(details.params);
    if (!meets(ACR.password, required)) return steps.showUnmet(reply, details, required!);
    return finish(request, reply, loginResult(user.id, ['pwd'], clock.now()));
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
