import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Actor } from './actor.ts';
import { constantTimeEqual, sha256 } from '../security/tokens.ts';
import { AppError, unauthenticated } from './errors.ts';

export const SESSION_COOKIE = '__Host-interim_session';
export const CSRF_HEADER = 'x-csrf-token';
const TOUCH_EVERY_MS = 60_000;

/** Sets the portal session cookie: after a portal sign-in, and after a sign-in on the provider's login page. */
export function setSessionCookie(reply: FastifyReply, token: string, maxAgeMs: number): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: Math.floor(maxAgeMs / 1000) });
}
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without signing in. Every other /api route needs a caller. */
    public?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
    /** False when a cookie-authenticated unsafe request lacks the session's CSRF token. */
    csrfOk: boolean;
  }
}

/**
 * Where the plugin looks callers up. The api-tokens and auth modules own those tables and
 * provide these (their repos fit as they are); http sits below every module, so it names
 * only the rows it reads and imports neither.
 */
export interface CallerSources {
  tokens: {
    /** The live token with this hash, of an enabled, undeleted user. */
    findLiveByHash(hash: string, now: number): Promise<{ id: string; user_id: string; last_used_at: number | null; is_admin: number; mfa_due_user?: string | null } | undefined>;
    touch(id: string, now: number): Promise<unknown>;
  };
  sessions: {
    /** The live, not idle session with this id, of an enabled, undeleted user. */
    findLive(
      id: string,
      now: number,
      idleMs: number,
    ): Promise<{ id: string; user_id: string; csrf_token: string; last_seen_at: number; is_admin: number; must_change_password: number; mfa_due_user?: string | null } | undefined>;
    touch(id: string, now: number): Promise<unknown>;
  };
  /** Access tokens the provider issued to the built-in CLI client (issue 15): live, with a live grant, of an enabled, undeleted user. */
  cliTokens?: {
    findLive(token: string, now: number): Promise<{ grant_id: string; user_id: string; is_admin: number; must_change_password: number; mfa_due_user?: string | null } | undefined>;
  };
}

/** API tokens start with this (the api-tokens module's API_TOKEN_PREFIX; http sits below it); other Bearer values are looked up as CLI access tokens first. */
const API_TOKEN_PREFIX = 'itk_';

/**
 * Resolves the caller once per request: a Bearer API token or CLI access token, or the session cookie.
 * Handlers then call requireActor(); services decide what the actor may touch.
 */
export function registerAuth(app: FastifyInstance, deps: { callers: CallerSources; clock: Clock; sessionIdleMs: number }): void {
  const { sessions, tokens, cliTokens } = deps.callers;
  app.decorateRequest('actor', null);
  app.decorateRequest('csrfOk', true);

  app.addHook('onRequest', async (request) => {
    const now = deps.clock.now();
    // OIDC endpoints read their own Bearer tokens; only our API and /metrics take API tokens.
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer && (request.url.startsWith('/api/') || request.url === '/metrics')) {
      // A value without the API-token prefix is first looked up as a CLI access token (the
      // bootstrap token may lack the prefix, so it falls through to the API tokens).
      if (cliTokens && !bearer.startsWith(API_TOKEN_PREFIX) && request.url.startsWith('/api/')) {
        const cli = await cliTokens.findLive(bearer, now);
        if (cli) {
          request.actor = { userId: cli.user_id, isAdmin: cli.is_admin === 1, via: 'cli', tokenId: cli.grant_id, mustChangePassword: cli.must_change_password === 1, mfaEnrolmentRequired: !!cli.mfa_due_user };
          return;
        }
      }
      const token = await tokens.findLiveByHash(sha256(bearer), now);
      if (!token) return;
      if (token.last_used_at === null || now - token.last_used_at > TOUCH_EVERY_MS) await tokens.touch(token.id, now);
      request.actor = { userId: token.user_id, isAdmin: token.is_admin === 1, via: 'token', tokenId: token.id, mustChangePassword: false, mfaEnrolmentRequired: !!token.mfa_due_user };
      return;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (!cookie) return;
    const session = await sessions.findLive(sha256(cookie), now, deps.sessionIdleMs);
    if (!session) return;
    if (now - session.last_seen_at > TOUCH_EVERY_MS) await sessions.touch(session.id, now);
    request.actor = {
      userId: session.user_id,
      isAdmin: session.is_admin === 1,
      via: 'session',
      sessionId: session.id,
      mustChangePassword: session.must_change_password === 1,
      mfaEnrolmentRequired: !!session.mfa_due_user,
    };
    if (!SAFE_METHODS.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      request.csrfOk = typeof header === 'string' && constantTimeEqual(header, session.csrf_token);
    }
  });

  // Secure by default, and before input validation: an anonymous caller learns nothing
  // about a route's input rules, only that it must sign in.
  app.addHook('preValidation', async (request) => {
    if (request.url.startsWith('/api/') && !request.routeOptions.config.public && !request.actor) throw unauthenticated();
  });
}

/**
 * The signed-in caller, or 401. A bootstrap admin must change the password first; a user the
 * MFA policy covers must enrol a second factor first (only the session, /me and enrolment
 * routes pass `allowPendingEnrolment`).
 */
export function requireActor(request: FastifyRequest, opts: { allowPendingPasswordChange?: boolean; allowPendingEnrolment?: boolean } = {}): Actor {
  const actor = request.actor;
  if (!actor) throw unauthenticated();
  if (!request.csrfOk) throw new AppError(403, 'csrf_failed', `send the session's CSRF token in the ${CSRF_HEADER} header`);
  if (actor.mustChangePassword && !opts.allowPendingPasswordChange) {
    throw new AppError(403, 'password_change_required', 'change your one-time password first (POST /api/v1/me/password)');
  }
  if (actor.mfaEnrolmentRequired && !opts.allowPendingEnrolment) {
    throw new AppError(403, 'mfa_enrolment_required', 'enrol a second factor first (POST /api/v1/me/factors/webauthn or /api/v1/me/factors/totp)');
  }
  return actor;
}
