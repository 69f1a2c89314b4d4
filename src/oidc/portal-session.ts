import type { IncomingMessage } from 'node:http';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Core } from '../core.ts';
import type { Actor } from '../http/actor.ts';
import { createSessionsRepo } from '../modules/auth/sessions.repo.ts';

/**
 * Portal and OIDC share one sign-in (DESIGN, security basics). Fastify's auth hook has
 * already resolved the portal session cookie into request.actor before a request is
 * handed to oidc-provider; we pass that actor along on the raw request.
 */
const actors = new WeakMap<IncomingMessage, Actor>();

export function rememberActor(req: IncomingMessage, actor: Actor | null): void {
  if (actor?.via === 'session') actors.set(req, actor);
}

export function portalActor(req: IncomingMessage): Actor | undefined {
  return actors.get(req);
}

/**
 * An extra check on the login prompt: the provider's own session counts only while the
 * browser's portal session is live and belongs to the same user. Signing out of the
 * portal, or its idle timeout, therefore ends single sign-on too. When the portal
 * session is live, our interaction page completes the login without showing a form.
 */
export function portalSessionCheck(): InstanceType<typeof interactionPolicy.Check> {
  const { Check } = interactionPolicy;
  return new Check('portal_session', 'the portal session has ended or belongs to someone else', (ctx: KoaContextWithOIDC) => {
    const actor = portalActor(ctx.req);
    const accountId = ctx.oidc.account?.accountId;
    // A user the MFA policy holds back must enrol in the portal first: no single sign-on meanwhile.
    if (!accountId || !actor || actor.mustChangePassword || actor.mfaEnrolmentRequired || actor.userId !== accountId) return Check.REQUEST_PROMPT;
    return Check.NO_NEED_TO_PROMPT;
  });
}

/**
 * RP-initiated logout ends the browser's portal session as well. Runs around the
 * provider's own handling; only a confirmed full logout (logout=yes) counts, not the
 * "stay signed in, leave only this application" answer.
 */
export function endPortalSessionOnLogout(core: Pick<Core, 'db' | 'audit'>, cookieName: string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || !ctx.oidc.params?.logout || ctx.status !== 303) return;
    const actor = portalActor(ctx.req);
    const sessionId = actor?.sessionId;
    if (actor && sessionId) {
      // A sign-out is an audit event, whichever door it goes through.
      await core.db.transaction().execute(async (trx) => {
        await createSessionsRepo(trx).delete(sessionId);
        await core.audit.append(trx, { actor, action: 'session.ended', targetType: 'user', targetId: actor.userId, data: { ip: ctx.ip, via: 'oidc_logout' } });
      });
    }
    ctx.append('Set-Cookie', `${cookieName}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax`);
  };
}
