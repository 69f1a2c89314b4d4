import { randomBytes } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { cspOf, originOf, pageHeaders } from './views.ts';

type Next = () => Promise<void>;

/** The per-response script nonce, for the pages we render from inside the provider. */
export function scriptNonceOf(ctx: KoaContextWithOIDC): string {
  return String((ctx.state as { cspNonce?: string }).cspNonce ?? '');
}

/**
 * Where a form on this provider page may lead, besides this origin: the client's
 * redirect URI for form_post answers, its post-logout URI for sign-out. Each only once
 * the provider has checked it against the client's registration.
 */
function formTargets(ctx: KoaContextWithOIDC): string[] {
  const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
  const client = oidc?.client;
  if (!oidc || !client) return [];
  const params = (oidc.params ?? {}) as Record<string, unknown>;
  const targets: string[] = [];
  const redirectUri = params.redirect_uri;
  if (typeof redirectUri === 'string' && client.redirectUriAllowed(redirectUri)) targets.push(...originOf(redirectUri));
  const postLogout = params.post_logout_redirect_uri;
  if (typeof postLogout === 'string' && client.postLogoutRedirectUriAllowed(postLogout)) targets.push(...originOf(postLogout));
  return targets;
}

/**
 * Gives every page oidc-provider renders, its defaults included (form_post's
 * auto-submitting page, the end-session pages, renderError), the headers of our own
 * pages. The CSP goes on before the provider runs, because oidc-provider adds the hash
 * of its inline script to an existing `script-src`; the page-only headers and the final
 * form-action go on afterwards, once the response is known to be HTML.
 */
export function providerPageHeaders() {
  return async (ctx: KoaContextWithOIDC, next: Next) => {
    const nonce = randomBytes(16).toString('base64url');
    (ctx.state as { cspNonce?: string }).cspNonce = nonce;
    ctx.set('content-security-policy', cspOf({ scriptNonce: nonce }));
    await next();
    if (!ctx.response.is('html')) return;
    const pushed = scriptHashesIn(String(ctx.response.get('content-security-policy') ?? ''));
    const headers = pageHeaders({ scriptNonce: nonce, formActions: formTargets(ctx) });
    headers['content-security-policy'] = withScriptHashes(headers['content-security-policy']!, pushed);
    ctx.set(headers);
  };
}

/** The 'sha256-…' sources oidc-provider pushed into script-src for its inline scripts. */
function scriptHashesIn(csp: string): string[] {
  const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'));
  return scriptSrc ? scriptSrc.trim().split(/\s+/).filter((s) => s.startsWith("'sha256-")) : [];
}

function withScriptHashes(csp: string, hashes: string[]): string {
  if (!hashes.length) return csp;
  return csp.replace(/script-src ([^;]*)/, (_m, sources: string) => `script-src ${sources} ${hashes.join(' ')}`);
}
