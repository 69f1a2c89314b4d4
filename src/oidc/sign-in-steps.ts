import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Executor } from '../db/database.ts';
import { setSessionCookie } from '../http/auth.ts';
import { AppError } from '../http/errors.ts';
import type { AuthService } from '../modules/auth/auth.service.ts';
import { ACR, acrOf, type Acr, type FactorProof, type FactorUse, type SecondFactors } from '../modules/mfa/index.ts';
import { randomSecret } from '../security/tokens.ts';
import { amrAfter, loginResult, meets, methodReaches, methodsFor, requiredAcr } from './acr.ts';
import { createSecondStepsRepo, type SecondStep } from './second-steps.repo.ts';
import { loginPage, messagePage, secondFactorPage, unmetPage } from './views.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface SignInStepDeps {
  db: Executor;
  clock: Clock;
  auth: Pick<AuthService, 'openSession' | 'throttledFactorCheck' | 'signInUser' | 'raiseSessionAmr'>;
  secondFactors: Pick<SecondFactors, 'methodsOf' | 'webauthnOptions' | 'verify' | 'isPasswordless'>;
  config: Pick<Config, 'baseUrl' | 'session'>;
}

/** What the interaction routes share with these steps (interactions.ts builds it). */
export interface PageKit {
  load(request: FastifyRequest, reply: FastifyReply): Promise<Interaction | undefined>;
  formOk(request: FastifyRequest, uid: string, token: string | undefined): boolean;
  csrfFor(uid: string): string;
  render(reply: FastifyReply, status: number, html: string, details?: Interaction, opts?: { ownScripts?: boolean }): FastifyReply;
  refused(reply: FastifyReply): FastifyReply;
  expired(reply: FastifyReply): FastifyReply;
  /** A 400 page; `field` names the form field that could not be read. */
  unreadable(reply: FastifyReply, details: Interaction, field?: string): FastifyReply;
  finish(request: FastifyRequest, reply: FastifyReply, result: InteractionResults): Promise<FastifyReply>;
  clientName(details: Interaction): Promise<string>;
  mustChangePassword(reply: FastifyReply): FastifyReply;
}

/** Who passed the first step: a password just now (sessionId null), or a live portal session (stepping up). */
export interface FirstStep {
  userId: string;
  sessionId: string | null;
  amr: string[];
}

const csrfField = z.string().max(200).optional();
export const secondFactorForm = z.object({ csrf: csrfField, code: z.string().max(64).default('') });
export const passkeyForm = z.object({ csrf: csrfField, webauthn: z.string().max(16 * 1024).default('') });
export const abortForm = z.object({ csrf: csrfField });

/** The first field a form failed on, for the 400 page (none for a body that is not an object). */
const fieldOf = (error: z.ZodError): string | undefined => {
  const field = error.issues[0]?.path[0];
  return typeof field === 'string' ? field : undefined;
};

/** A check that fails after the factor was spent (a state spent by a concurrent answer, a passkey not for signing in alone): the rollback gives the factor back. */
class Refused extends Error {}

/** The portal page where users add passkeys and authenticator apps (Account → security). */
const SECURITY_PAGE = '/account/security';

const path = (uid: string, step: string) => `/oidc/interaction/${uid}/${step}`;
const requiredOf = (details: Interaction): Acr | null => requiredAcr(details.params as { acr_values?: unknown; claims?: unknown });

/**
 * The sign-in steps after (or instead of) the password on our OIDC login page (docs/mfa.md,
 * "Signing in to applications"): a second factor for users who have one, a passkey alone,
 * and a step-up when the application asks for a stronger class than the session has. The
 * pending state lives in `oidc_second_steps`, bound to the interaction, 5 minutes, spent
 * once in the transaction that spends the factor.
 */
export function signInSteps(app: FastifyInstance, deps: SignInStepDeps, kit: PageKit) {
  const { db, clock, auth, secondFactors, config } = deps;
  const repo = createSecondStepsRepo(db);

  /** The first page: email and password, and a passkey button with this page's own challenge. */
  async function showLogin(reply: FastifyReply, details: Interaction, status = 200, extra: { email?: string; error?: string } = {}) {
    const step = await repo.put({ uid: details.uid, userId: null, sessionId: null, firstAmr: [], challenge: randomSecret() }, clock.now());
    const options = await secondFactors.webauthnOptions(db, null, step.challenge);
    return kit.render(
      reply,
      status,
      loginPage({
        action: path(details.uid, 'login'),
        csrf: kit.csrfFor(details.uid),
        clientName: await kit.clientName(details),
        email: extra.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined),
        error: extra.error,
        passkey: { action: path(details.uid, 'passkey'), options },
      }),
      details,
      { ownScripts: true },
    );
  }

  /** Asks for a second factor after `first`, or says why none can do (unmetRequirement). */
  async function startSecondStep(reply: FastifyReply, details: Interaction, first: FirstStep) {
    const required = requiredOf(details);
    const all = await secondFactors.methodsOf(db, first.userId);
    if (methodsFor(required, all).length === 0) return showUnmet(reply, details, required ?? ACR.mfa);
    const step = await repo.put({ uid: details.uid, userId: first.userId, sessionId: first.sessionId, firstAmr: first.amr, challenge: randomSecret() }, clock.now());
    return showSecondStep(reply, details, step);
  }

  async function showSecondStep(reply: FastifyReply, details: Interaction, step: SecondStep, status = 200, error?: string) {
    const required = requiredOf(details);
    const methods = methodsFor(required, await secondFactors.methodsOf(db, step.userId!));
    const passkeyOptions = methods.includes('webauthn') ? await secondFactors.webauthnOptions(db, step.userId, step.challenge) : undefined;
    const clientName = await kit.clientName(details);
    return kit.render(
      reply,
      status,
      secondFactorPage({
        action: path(details.uid, 'second-factor'),
        passkeyAction: path(details.uid, 'passkey'),
        csrf: kit.csrfFor(details.uid),
        clientName,
        passkeyOptions,
        codes: methods.includes('totp') || methods.includes('recovery_code'),
        note: required === ACR.phishingResistant ? `${clientName} requires a passkey: a code is not enough.` : undefined,
        error,
      }),
      details,
      { ownScripts: passkeyOptions !== undefined },
    );
  }

  /** The application requires a class this user cannot reach with the factors they have. */
  async function showUnmet(reply: FastifyReply, details: Interaction, required: Acr) {
    const clientName = await kit.clientName(details);
    const text =
      required === ACR.phishingResistant
        ? `${clientName} requires signing in with a passkey, and you have none yet. Add a passkey in the Interim portal, then sign in to ${clientName} again.`
        : `${clientName} requires a second factor, and you have none yet. Add a passkey (or an authenticator app) in the Interim portal, then sign in to ${clientName} again.`;
    return kit.render(reply, 403, unmetPage({ action: path(details.uid, 'abort'), csrf: kit.csrfFor(details.uid), clientName, text, portalUrl: `${config.baseUrl}${SECURITY_PAGE}` }), details);
  }

  const stepGone = (reply: FastifyReply) =>
    kit.render(reply, 400, messagePage('Sign-in step expired', 'This step of the sign-in has expired or was already used. Go back to the application and start again.'));

  /**
   * The live pending state of this interaction. A step-up counts only while the portal
   * session it raises is still the one this browser sends: a session that ended (signed
   * out, timed out) proves no first step any more.
   */
  async function pendingStep(request: FastifyRequest, details: Interaction): Promise<SecondStep | undefined> {
    const step = await repo.find(details.uid, clock.now());
    if (step?.sessionId && request.actor?.sessionId !== step.sessionId) return undefined;
    return step;
  }

  /** Checks a proof against the pending state, throttled like a password, and completes the sign-in. */
  async function answer(request: FastifyRequest, reply: FastifyReply, details: Interaction, step: SecondStep, proof: FactorProof) {
    let use: FactorUse | null = null;
    const tryAgain = (status: number, error: string) =>
      step.userId === null ? showLogin(reply, details, status, { error }) : showSecondStep(reply, details, step, status, error);
    try {
      const passed = await auth.throttledFactorCheck(step.userId, request.ip, async () => {
        use = await db
          .transaction()
          .execute(async (trx) => {
            const checked = await secondFactors.verify(trx, step.userId, proof, step.challenge);
            if (!checked) return null;
            if (step.userId === null && !(await secondFactors.isPasswordless(trx, checked.factorId))) throw new Refused();
            if (!(await createSecondStepsRepo(trx).spend(step, clock.now()))) throw new Refused();
            return checked;
          })
          .catch((error: unknown) => {
            if (error instanceof Refused) return null;
            throw error;
          });
        return use !== null;
      });
      if (!passed) {
        if (!(await repo.find(step.uid, clock.now()))) return stepGone(reply);
        return tryAgain(401, step.userId === null ? 'That passkey could not sign you in.' : 'That did not work: the code is wrong or was already used, or the passkey is not one of yours.');
      }
    } catch (error) {
      if (error instanceof AppError && error.status === 429) return tryAgain(429, 'Too many attempts. Wait a few minutes, then try again.');
      throw error;
    }
    return complete(request, reply, details, step, use!);
  }

  async function complete(request: FastifyRequest, reply: FastifyReply, details: Interaction, step: SecondStep, use: FactorUse) {
    const amr = amrAfter(step.firstAmr, use);
    const required = requiredOf(details);
    if (!meets(acrOf(amr), required)) return showUnmet(reply, details, required!);
    const user = await auth.signInUser(use.userId);
    if (!user) return showLogin(reply, details, 401, { error: 'That passkey could not sign you in.' });
    if (step.sessionId) {
      await auth.raiseSessionAmr(step.sessionId, user.id, amr, request.ip);
    } else {
      const signedIn = await auth.openSession(user, request.ip, amr);
      setSessionCookie(reply, signedIn.sessionToken, config.session.absoluteMs);
    }
    if (user.must_change_password === 1) return kit.mustChangePassword(reply);
    return kit.finish(request, reply, loginResult(user.id, amr, clock.now()));
  }

  /** The form's pending state for a POST, or the page that says why there is none. */
  async function begin<T extends { csrf?: string }>(request: FastifyRequest, reply: FastifyReply, schema: z.ZodType<T>) {
    const details = await kit.load(request, reply);
    if (!details) return { done: kit.expired(reply) };
    const form = schema.safeParse(request.body ?? {});
    if (!form.success) return { done: kit.unreadable(reply, details, fieldOf(form.error)) };
    if (!kit.formOk(request, details.uid, form.data.csrf)) return { done: kit.refused(reply) };
    if (details.prompt.name !== 'login') return { done: reply.redirect(`/oidc/interaction/${details.uid}`, 303) };
    return { details, form: form.data };
  }

  app.post('/oidc/interaction/:uid/second-factor', { schema: { hide: true } }, async (request, reply) => {
    const started = await begin(request, reply, secondFactorForm);
    if (!started.details) return started.done;
    const { details, form } = started;
    const step = await pendingStep(request, details);
    if (!step || step.userId === null) return stepGone(reply);
    const code = form.code.trim();
    if (code === '') return showSecondStep(reply, details, step, 400, 'Enter a code, or use your passkey.');
    const totp = /^\d{6}$/.test(code.replace(/\s/g, ''));
    if (!methodReaches(totp ? 'totp' : 'recovery_code', requiredOf(details))) {
      return showSecondStep(reply, details, step, 403, `${await kit.clientName(details)} requires a passkey: a code from an authenticator app or a recovery code is not enough.`);
    }
    return answer(request, reply, details, step, totp ? { totp: code.replace(/\s/g, '') } : { recovery_code: code });
  });

  app.post('/oidc/interaction/:uid/passkey', { schema: { hide: true } }, async (request, reply) => {
    const started = await begin(request, reply, passkeyForm);
    if (!started.details) return started.done;
    const { details, form } = started;
    let assertion: unknown;
    try {
      assertion = JSON.parse(form.webauthn);
    } catch {
      return kit.unreadable(reply, details, 'webauthn');
    }
    if (!assertion || typeof assertion !== 'object' || Array.isArray(assertion)) return kit.unreadable(reply, details, 'webauthn');
    const step = await pendingStep(request, details);
    if (!step) return stepGone(reply);
    return answer(request, reply, details, step, { webauthn: assertion });
  });

  app.post('/oidc/interaction/:uid/abort', { schema: { hide: true } }, async (request, reply) => {
    const started = await begin(request, reply, abortForm);
    if (!started.details) return started.done;
    return kit.finish(request, reply, {
      error: 'unmet_authentication_requirements',
      error_description: 'the application requires a stronger sign-in than this user can give',
    });
  });

  return { showLogin, startSecondStep, showUnmet };
}
