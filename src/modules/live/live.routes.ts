import { requireActor } from '../../http/auth.ts';
import { AppError } from '../../http/errors.ts';
import type { HttpApp } from '../../http/types.ts';
import type { LiveHub } from './live.hub.ts';

/**
 * GET /api/v1/live: a text/event-stream of `{type, request_id}` for every change to a
 * request the caller may see. The portal refetches what changed; nothing else travels.
 */
export function liveRoutes(app: HttpApp, deps: { hub: LiveHub; retryMs: number }): void {
  app.get(
    '/api/v1/live',
    {
      schema: {
        tags: ['live'],
        summary:
          'Server-sent events: one `data: {"type", "request_id"}` message per change to a request you may see (submitted, decided, commented, expired …); comment lines as heartbeats',
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      if (deps.hub.full(actor)) throw new AppError(429, 'too_many_streams', 'too many live streams are open for you; close another tab', { retry_after: 30 });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
      });
      // How long the browser waits before it reconnects; the comment opens the stream at once.
      res.write(`retry: ${deps.retryMs}\n: connected\n\n`);
      deps.hub.add(actor, res);
    },
  );
}
