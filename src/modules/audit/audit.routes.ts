import { Readable } from 'node:stream';
import { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import { instant, searchText } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { AuditFilter } from './audit.repo.ts';
import type { AuditService } from './audit.service.ts';

const auditOut = z.object({
  seq: z.number().int(),
  id: z.string(),
  at: instant,
  actor_type: z.enum(['user', 'system']),
  actor_id: z.string().nullable(),
  action: z.string(),
  target_type: z.string(),
  target_id: z.string().nullable(),
  request_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});

/** The list names who did it and what it was done to (looked up now; the chain keeps only ids). */
const namedAuditOut = auditOut.extend({
  actor: z
    .object({ id: z.string(), email: z.string(), name: z.string(), deleted: z.boolean() })
    .nullable()
    .describe('the user who did it, null for the system; a user gone from the database is named by their id with "(deleted)"'),
  target: z
    .object({ type: z.string(), id: z.string(), name: z.string(), deleted: z.boolean() })
    .nullable()
    .describe('what it was done to, named (a request by its template); null when the event has no target id; a thing gone is named by its id with "(deleted)"'),
});

const filterQuery = z.object({
  request_id: z.uuid().optional(),
  actor_id: z.uuid().optional(),
  action: z.string().trim().max(100).optional().describe('the start of the action, any case (access_request. finds every request event)'),
  target_id: z.string().max(100).optional(),
  q: searchText.optional().describe("part of the action, of the actor's email or name, or of the target's name, any case"),
  from: instant.optional(),
  to: instant.optional(),
});

function toFilter(q: z.infer<typeof filterQuery>): AuditFilter {
  return {
    requestId: q.request_id,
    actorId: q.actor_id,
    action: q.action,
    targetId: q.target_id,
    text: q.q,
    from: q.from ? Date.parse(q.from) : undefined,
    to: q.to ? Date.parse(q.to) : undefined,
  };
}

export function auditRoutes(app: HttpApp, deps: { audit: AuditService }): void {
  const tags = ['audit'];
  app.get(
    '/api/v1/audit-events',
    {
      schema: {
        tags,
        summary: 'Audit events, newest first, with actor and target names, filtered by request, actor, action, target, text and time range (admin)',
        querystring: filterQuery.extend({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().regex(/^\d+$/, 'must be a next_cursor from an earlier page').optional(),
        }),
        response: { 200: z.object({ items: z.array(namedAuditOut), next_cursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return deps.audit.list(requireActor(request), toFilter(filter), { limit, beforeSeq: cursor ? Number(cursor) : undefined });
    },
  );

  app.get(
    '/api/v1/audit-events/export',
    {
      schema: {
        tags,
        summary: 'Export matching audit events oldest first as NDJSON (the chain rows as stored) or CSV (with actor_email, actor_name and target_name columns) (admin)',
        querystring: filterQuery.extend({ format: z.enum(['ndjson', 'csv']).default('ndjson') }),
      },
    },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      const stream = deps.audit.export(requireActor(request), toFilter(filter), format);
      const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
      return reply
        .type(type)
        .header('content-disposition', `attachment; filename="interim-audit.${format === 'csv' ? 'csv' : 'ndjson'}"`)
        .send(Readable.from(stream));
    },
  );

  app.get(
    '/api/v1/audit-head',
    {
      schema: {
        tags,
        summary: 'The latest chain position; keep it elsewhere to check later that no rows were removed (admin)',
        response: { 200: z.object({ seq: z.number().int(), hash: z.string() }) },
      },
    },
    async (request) => deps.audit.head(requireActor(request)),
  );
}
