import type { KoaContextWithOIDC } from 'oidc-provider';
import { scriptNonceOf } from './page-headers.ts';
import { portalActor } from './portal-session.ts';
import { autoSubmitPage, escapeHtml, logoutPage } from './views.ts';

type Next = () => Promise<void>;

/**
 * Who a sign-out request would sign out: the provider session's account, or else the
 * browser's portal session (portal and OIDC share one sign-in, so a portal session
 * without a provider session is still someone to ask).
 */
function signedInUser(ctx: KoaContextWithOIDC): string | undefined {
  return ctx.oidc.session?.accountId ?? portalActor(ctx.req)?.userId;
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2: the OP asks the user unless the request
 * proves it comes from a relying party of this very user. That proof is an
 * id_token_hint, already validated by oidc-provider against a registered client, whose
 * `sub` is the signed-in user; then the page confirms by itself.
 */
function hintNamesSignedInUser(ctx: KoaContextWithOIDC, userId: string): boolean {
  const hint = ctx.oidc.entities.IdTokenHint;
  return !!hint && !!ctx.oidc.client && hint.payload.sub === userId;
}

function logoutForm(ctx: KoaContextWithOIDC): { action: string; xsrf: string } {
  return { action: ctx.oidc.urlFor('end_session_confirm'), xsrf: String(ctx.oidc.session?.state?.secret ?? '') };
}

/** Renders the sign-out step for a signed-in user: our confirm page, or the confirmed auto-submit. */
function renderSignOut(ctx: KoaContextWithOIDC, userId: string): void {
  const { action, xsrf } = logoutForm(ctx);
  ctx.status = 200;
  ctx.type = 'html';
  if (hintNamesSignedInUser(ctx, userId)) {
    ctx.body = autoSubmitPage({ action, fields: { xsrf, logout: 'yes' }, nonce: scriptNonceOf(ctx), title: 'Signing out' });
    return;
  }
  // oidc-provider's form markup, rebuilt with escaping; the page's buttons submit it.
  const form = `<form id="op.logoutForm" method="post" action="${escapeHtml(action)}"><input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}"></form>`;
  ctx.body = logoutPage(form, ctx.oidc.client?.clientName);
}

/** `features.rpInitiatedLogout.logoutSource`: oidc-provider calls it when its own session has an account. */
export function logoutSource(ctx: KoaContextWithOIDC): void {
  renderSignOut(ctx, ctx.oidc.session!.accountId!); // oidc-provider calls logoutSource only for a session with an account
}

/**
 * oidc-provider answers an end-session request without an account in its own session
 * with a page that confirms sign-out by itself. With a live portal session that would
 * sign the user out of Interim unasked, so that answer is replaced by the same question
 * logoutSource asks. Nobody signed in at all: nothing to lose, the provider's answer
 * (which only leads back to the relying party) stands.
 */
export function askBeforePortalSignOut() {
  return async (ctx: KoaContextWithOIDC, next: Next) => {
    await next();
    if (ctx.oidc?.route !== 'end_session' || ctx.status !== 200 || ctx.oidc.session?.accountId) return;
    const userId = signedInUser(ctx);
    if (userId) renderSignOut(ctx, userId);
  };
}
