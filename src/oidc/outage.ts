import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { DATABASE_RETRY_AFTER_SECS, OAUTH_TEMPORARILY_UNAVAILABLE } from '../http/problem.ts';

/**
 * While the database is away, oidc-provider answers 500 server_error ("oops! something
 * went wrong"), as it does for any bug. Clients should instead learn that a retry will
 * do: this answers 503 with `temporarily_unavailable` (JSON for the token, userinfo and
 * other back-channel endpoints; our error page for a browser), and Retry-After.
 * oidc-provider catches errors inside each route and reports them through its
 * server_error event, so that event marks the request and this outermost middleware
 * rewrites the answer. An error redirected back to the client (the authorization
 * endpoint) keeps its status; it reaches the client as error=server_error.
 */
export function answerOutagesAsUnavailable(provider: Provider, renderPage: (ctx: KoaContextWithOIDC) => void): void {
  const outages = new WeakSet<object>();
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (isDatabaseUnavailable(error)) outages.add(ctx);
  });
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    try {
      await next();
    } catch (error) {
      // Our own middleware after the routes (e.g. ending the portal session on logout).
      if (!isDatabaseUnavailable(error)) throw error;
      outages.add(ctx);
    }
    if (!outages.has(ctx) || (ctx.status >= 300 && ctx.status < 400)) return;
    ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECS));
    ctx.set('Cache-Control', 'no-store');
    if (ctx.accepts('json', 'html') === 'html') return renderPage(ctx);
    ctx.status = 503;
    ctx.body = { ...OAUTH_TEMPORARILY_UNAVAILABLE };
  });
}
