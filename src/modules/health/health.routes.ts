import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import { isDatabaseUnavailable } from '../../db/unavailable.ts';
import type { HttpApp } from '../../http/types.ts';

export function healthRoutes(app: HttpApp, deps: { db: Db }): void {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database answers (503 while it cannot be reached; /healthz stays 200)',
        response: { 200: z.object({ status: z.literal('ready') }), 503: z.object({ status: z.literal('unavailable') }) },
      },
    },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(deps.db);
        return { status: 'ready' as const };
      } catch (err) {
        // Probes repeat every few seconds during an outage: one line each, a stack only for a real bug.
        if (isDatabaseUnavailable(err)) request.log.warn({ reason: (err as Error).message }, 'readiness check failed: database unavailable');
        else request.log.error({ err }, 'readiness check failed');
        return reply.status(503).send({ status: 'unavailable' as const });
      }
    },
  );
}
