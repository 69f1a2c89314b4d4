import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { ObserveRequest } from './metrics.ts';
import { setBaselineHeaders } from './security-headers.ts';

/**
 * The fast path (DESIGN, "Processes, caches and the hot path"): a few hot endpoints (the
 * OIDC token endpoint, userinfo, introspection; oidc/mount.ts adds them) are served from the
 * server's request listener, before Fastify builds its request and reply, routes, and runs
 * the cookie, auth and metrics hooks (~30 µs per request, issue 11). Those routes are all
 * handed untouched to oidc-provider, which authenticates the client or the bearer token
 * itself and never reads the portal caller Fastify resolves, so nothing of that is skipped
 * for them. What every answer needs is done here with the same functions as on the Fastify
 * path: the baseline security headers with the same trust-proxy rule (setBaselineHeaders,
 * http/security-headers.ts) and the request-duration metric (the `observe` of
 * http/metrics.ts, labelled with the route pattern Fastify would report). Every other
 * request, and a hot one whose handler cannot start (see HotRoute.handle), goes to Fastify.
 */
export interface HotRoute {
  method: string;
  /** The exact path; a query string is allowed, any other path goes to Fastify. */
  path: string;
  /** The metrics label, as Fastify reports the route that also serves it. */
  label: string;
  /**
   * Serves the request, or returns false before touching it (nothing read, nothing
   * written) so that Fastify serves it instead, as it would without a fast path.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

export interface FastPath {
  add(route: HotRoute): void;
  /** Requests the hot routes have served so far (tests check that these endpoints take the fast path). */
  readonly served: number;
  /** The request-duration metric (http/metrics.ts), set once metrics are registered. */
  observe?: ObserveRequest;
  /**
   * Fastify's serverFactory: an HTTP server (with the options Fastify gives its own) whose
   * listener serves the hot routes and hands everything else to Fastify's handler.
   */
  serverFactory(handler: RequestListener, opts: { http?: ServerOptions | null; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number }): Server;
}

export function createFastPath(deps: { trustProxy: boolean }): FastPath {
  const routes = new Map<string, HotRoute>();
  let served = 0;

  function serve(req: IncomingMessage, res: ServerResponse, fastify: RequestListener): void {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const route = routes.get(`${req.method} ${query < 0 ? url : url.slice(0, query)}`);
    if (!route) return void fastify(req, res);
    const started = performance.now();
    setBaselineHeaders(req, res, deps.trustProxy);
    const observe = fastPath.observe;
    const record = () => observe?.(route.method, route.label, res.statusCode, (performance.now() - started) / 1000);
    res.once('close', record);
    const toFastify = () => {
      res.off('close', record);
      fastify(req, res);
    };
    route.handle(req, res).then(
      (done) => void (done ? served++ : toFastify()),
      // The handlers answer their own errors (oidc-provider's Koa does); one that failed before
      // writing anything is served by Fastify, whose problem handler answers the error again.
      () => void (res.headersSent ? res.writableEnded || res.destroy() : toFastify()),
    );
  }

  const fastPath: FastPath = {
    add: (route) => void routes.set(`${route.method} ${route.path}`, route),
    get served() {
      return served;
    },
    serverFactory(handler, opts) {
      const server = createServer(opts.http ?? {}, (req, res) => serve(req, res, handler));
      // What Fastify sets on a server it creates itself (fastify/lib/server.js).
      if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
      if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout;
      if (opts.connectionTimeout !== undefined) server.setTimeout(opts.connectionTimeout);
      if (opts.maxRequestsPerSocket && opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      return server;
    },
  };
  return fastPath;
}
