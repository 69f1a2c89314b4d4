import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` writes the portal. */
export const PORTAL_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Paths that belong to the API, OIDC and operations: the portal never answers them. */
const RESERVED_PREFIXES = ['/api', '/oidc', '/healthz', '/readyz', '/metrics', '/.well-known', '/ssf'];

/**
 * Is this a route of the single-page app (/, /requests/…, /admin/…) that should get
 * index.html? Reserved prefixes are not, and neither is anything that looks like a
 * file (a missing /assets/x.js must be a 404, not HTML with status 200).
 */
export function isClientRoute(pathname: string): boolean {
  if (RESERVED_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`))) return false;
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return !last.includes('.');
}

/**
 * The portal's pages run only our own bundled script and styles, talk only to this
 * origin (API and the live stream), and may not be framed.
 */
export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export const PORTAL_PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  // Always revalidated, so a new deployment's asset names are picked up at once.
  'cache-control': 'no-cache',
  'content-security-policy': PORTAL_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Interim</title></head><body><main>
<h1>The portal has not been built</h1><p>Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it) and reload.
The API is at <a href="/api/v1/docs">/api/v1/docs</a>.</p></main></body></html>`;

/**
 * Serves the built portal: hashed assets with a year of caching, index.html for every
 * client route with a strict CSP. Reserved paths fall through to the problem+json 404.
 */
export async function registerPortal(app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? PORTAL_DIST;
  const indexFile = join(root, 'index.html');
  const built = existsSync(indexFile);
  if (!built) app.log.warn({ root }, 'the portal is not built; run npm run build:web');
  const html = built ? readFileSync(indexFile) : Buffer.from(NOT_BUILT);

  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      // One route per built file, found at start: no catch-all that could shadow the API.
      wildcard: false,
      index: false,
      globIgnore: ['index.html', '**/*.br', '**/*.gz'],
      preCompressed: true,
      cacheControl: false,
      dotfiles: 'ignore',
      setHeaders(reply, filePath) {
        const hashed = filePath.includes('/assets/');
        reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
        reply.header('x-content-type-options', 'nosniff');
      },
    });
  }

  const serveApp = async (request: FastifyRequest, reply: FastifyReply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    if (!isClientRoute(pathname)) return reply.callNotFound();
    return reply
      .status(built ? 200 : 503)
      .headers(PORTAL_PAGE_HEADERS)
      .send(html);
  };
  app.get('/', { schema: { hide: true } }, serveApp);
  app.get('/*', { schema: { hide: true } }, serveApp);
}
