import type { FastifyInstance } from 'fastify';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { forbidden } from './errors.ts';
import { requireActor } from './auth.ts';

/** Records one answered request: method, route pattern (the label), status and seconds. */
export type ObserveRequest = (method: string, route: string, status: number, seconds: number) => void;

/**
 * Prometheus metrics at /metrics, readable with an admin API token. Returns the function
 * that records a request, which the fast path (http/fast-path.ts) calls for the requests
 * it serves before Fastify.
 */
export function registerMetrics(app: FastifyInstance): { registry: Registry; observe: ObserveRequest } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'interim_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const observe: ObserveRequest = (method, route, status, seconds) => duration.observe({ method, route, status: String(status) }, seconds);
  app.addHook('onResponse', async (request, reply) => {
    observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!requireActor(request).isAdmin) throw forbidden();
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return { registry, observe };
}
