import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The headers every answer carries, whoever renders it: our API and pages, the portal,
 * the API docs, and oidc-provider's own pages and JSON (see oidc/page-headers.ts).
 *
 * - `x-content-type-options: nosniff` on everything, so no answer is sniffed into HTML.
 * - `cache-control: no-store` unless the route chose its own caching (the portal's
 *   hashed assets do): API answers carry tokens, client secrets and personal data.
 * - `strict-transport-security` whenever the request reached us over TLS, directly or
 *   through a trusted proxy (INTERIM_TRUST_PROXY and `x-forwarded-proto: https`).
 */
export const HSTS = 'max-age=31536000';

/**
 * Whether the request reached us over TLS: the last `x-forwarded-proto` when proxies are
 * trusted (INTERIM_TRUST_PROXY, Fastify's rule for request.protocol with trustProxy: true),
 * else the socket. On the raw request, so the fast path (http/fast-path.ts) and the
 * Fastify hook below decide alike.
 */
export function viaTls(raw: IncomingMessage, trustProxy: boolean): boolean {
  const forwarded = trustProxy ? raw.headers['x-forwarded-proto'] : undefined;
  if (forwarded) {
    const value = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    return value.slice(value.lastIndexOf(',') + 1).trim() === 'https';
  }
  return (raw.socket as { encrypted?: boolean } | null)?.encrypted === true;
}

/** Puts the baseline headers on the raw response at once (Node merges them into whatever writeHead sends later). */
export function setBaselineHeaders(raw: IncomingMessage, res: { setHeader(name: string, value: string): unknown }, trustProxy: boolean): void {
  for (const [name, value] of Object.entries(baselineHeaders(viaTls(raw, trustProxy)))) res.setHeader(name, value);
}

/** The headers every answer gets. Takes a flag, not a request, so a path outside Fastify can use it too. */
export function baselineHeaders(overTls: boolean): Record<string, string> {
  return { 'x-content-type-options': 'nosniff', ...(overTls ? { 'strict-transport-security': HSTS } : {}) };
}

/**
 * Headers of an HTML page we render: never cached, never framed, no referrer to other
 * origins, and a CSP built by the caller (cspOf in oidc/views.ts or the docs CSP below).
 */
export function htmlPageHeaders(csp: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it browsers send `Origin: null` with a same-origin form post,
    // which the interaction pages' origin check must refuse. Other origins get no referrer.
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}

/**
 * The API reference (swagger-ui at /api/v1/docs): its own bundled scripts and styles
 * only (@fastify/swagger-ui serves them from /api/v1/docs/static/), its schemas fetched
 * from this origin, no framing. swagger-ui draws its icons as data: SVGs.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export const DOCS_PREFIX = '/api/v1/docs';

function isHtml(reply: FastifyReply): boolean {
  return /^text\/html/i.test(String(reply.getHeader('content-type') ?? ''));
}

/** Registers the baseline on every answer (errors, 404s and hijacked replies included). */
export function registerSecurityHeaders(app: FastifyInstance, trustProxy: boolean): void {
  // On the raw response, at once: hijacked replies (oidc-provider's mount, the live
  // stream) skip onSend.
  app.addHook('onRequest', async (request, reply) => {
    setBaselineHeaders(request.raw, reply.raw, trustProxy);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (request.url.startsWith(DOCS_PREFIX) && isHtml(reply)) reply.headers(htmlPageHeaders(DOCS_CSP));
    return payload;
  });
}
