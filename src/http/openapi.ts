import type { SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * The OpenAPI document says what the API really answers. Route files declare their
 * success answers; what every route shares is added here, in one place, from facts the
 * route already states (its input schemas, its method, whether it is public):
 *
 * - the problem+json error answers each operation can give (DESIGN rule 9);
 * - 204 No Content for a DELETE that declares no body;
 * - `security: []` on operations that need no caller;
 * - `requestBody.required: false` where the body schema accepts no body at all.
 *
 * test/openapi-contract.test.ts holds the document against the live answers.
 */

/** RFC 9457 problem details as this API renders them (http/problem.ts). */
export const problemBody = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  code: z.string().describe('stable machine-readable error code'),
  detail: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('each invalid field, on validation errors'),
  retry_after: z.number().int().optional().describe('seconds to wait, on 429'),
  current_version: z.number().int().optional().describe('the stored version, on 412 version_mismatch'),
});

const PROBLEM_REF = '#/components/schemas/Problem';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (problem+json; `errors` names each field)',
  401: 'No valid session or API token',
  403: 'Signed in, but not allowed (or the CSRF token or a password change is missing)',
  404: 'The object does not exist or the caller may not see it',
  409: 'Conflicts with the current state (a name in use, a decision already taken, a reference that blocks deletion)',
  412: 'If-Match names a version that is no longer the stored one (problem+json `version_mismatch` with `current_version`)',
  413: 'Body too large',
  415: 'Body is not JSON',
  429: 'Too many attempts; see retry-after',
};

/** Answers a route gives that its schemas cannot show. */
const EXTRA_ERRORS: Record<string, readonly number[]> = {
  'POST /api/v1/session': [401, 429], // wrong credentials; sign-in throttle
  'POST /api/v1/access-requests': [429], // submission rate limit
  'GET /api/v1/live': [429], // too many open streams
  'PATCH /api/v1/access-request-templates/:id': [412], // stale If-Match
  'POST /api/v1/slack/interactions': [400, 401], // Slack's signature is checked in the handler, over the raw form body
};

/** Success answers of routes that declare no response schema (they stream, or answer 204). */
const UNSCHEMED_SUCCESS: Record<string, Record<string, unknown>> = {
  'POST /api/v1/me/password': { 204: { type: 'null', description: 'Password changed' } },
  'GET /api/v1/audit-events/export': {
    200: { description: 'The matching audit events, as CSV or NDJSON', content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } } },
  },
  'GET /api/v1/access-requests/export': { 200: { description: 'The matching requests, as CSV', content: { 'text/csv': { schema: { type: 'string' } } } } },
  ...Object.fromEntries(
    ['templates', 'grants', 'approvers', 'standing'].map((section) => [
      `GET /api/v1/insights/${section}.csv`,
      { 200: { description: `The insights' ${section} figures as CSV`, content: { 'text/csv': { schema: { type: 'string' } } } } },
    ]),
  ),
  'GET /api/v1/live': { 200: { description: 'Server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface RouteFacts {
  method: string;
  url: string;
  public: boolean;
  hasBody: boolean;
  hasParams: boolean;
  hasQuery: boolean;
}

/** The error statuses an operation can answer, from what its route states. Pure. */
export function errorStatusesOf(route: RouteFacts): number[] {
  const statuses = new Set<number>(EXTRA_ERRORS[`${route.method} ${route.url}`] ?? []);
  if (route.hasBody || route.hasParams || route.hasQuery) statuses.add(400);
  if (route.hasBody) [413, 415].forEach((s) => statuses.add(s));
  if (!route.public) {
    statuses.add(401);
    statuses.add(403);
    // Path ids, and ids named in a body, may point at nothing the caller may see.
    if (route.hasParams || route.hasBody) statuses.add(404);
    if (MUTATING.has(route.method)) statuses.add(409);
  }
  return [...statuses].sort((a, b) => a - b);
}

/** Operations (`METHOD /openapi/{path}`) whose body schema accepts no body. */
const optionalBodies = new Set<string>();

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

function acceptsNoBody(body: unknown): boolean {
  if (!(body instanceof z.ZodType)) return false;
  return body.safeParse(undefined).success || body.safeParse(null).success;
}

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
interface RouteLike {
  method: string | string[];
  url: string;
  config?: { public?: boolean };
}

/** fastify-swagger `transform`: zod → JSON Schema, then the shared answers above. */
export function openApiTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const result = jsonSchemaTransform(input);
  const original = (input.schema ?? {}) as Record<string, unknown>;
  const schema = result.schema as Record<string, unknown> | undefined;
  if (!schema || schema.hide) return result;
  const route = (input as unknown as { route: RouteLike }).route;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const method = methods.find((m) => m !== 'HEAD') ?? 'GET';
  // The SSF endpoints (/ssf/…) take a receiver's OAuth access token instead of an API token: not public either.
  const isPublic = route.config?.public === true || !(input.url.startsWith('/api/') || input.url.startsWith('/ssf/'));

  const response = { ...((schema.response as Record<string, unknown> | undefined) ?? {}) };
  if (!Object.keys(response).some((s) => s.startsWith('2'))) {
    const known = UNSCHEMED_SUCCESS[`${method} ${input.url}`];
    if (known) Object.assign(response, known);
    else if (method === 'DELETE') response['204'] = { type: 'null', description: 'Deleted' };
    else response['200'] = { description: 'Success', content: { 'application/json': { schema: {} } } };
  }
  const facts: RouteFacts = { method, url: input.url, public: isPublic, hasBody: !!original.body, hasParams: !!original.params, hasQuery: !!original.querystring };
  for (const status of errorStatusesOf(facts)) {
    response[String(status)] ??= { description: DESCRIPTIONS[status], content: { 'application/problem+json': { schema: { $ref: PROBLEM_REF } } } };
  }
  if (acceptsNoBody(original.body)) optionalBodies.add(`${method} ${openApiPath(input.url)}`);
  return { ...result, schema: { ...schema, response, ...(isPublic ? { security: [] } : {}) } };
}

function problemJsonSchema(): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(problemBody, { target: 'draft-2020-12' }); // the document states its dialect once
  return schema;
}

interface OpenApiObject {
  components?: { schemas?: Record<string, unknown> };
  paths?: Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
}

/** fastify-swagger `transformObject`: the Problem schema, and bodies that may be left out. */
export const openApiTransformObject: SwaggerTransformObject = (documentObject) => {
  const doc = ('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as OpenApiObject;
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Problem: problemJsonSchema() } };
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.requestBody && optionalBodies.has(`${method.toUpperCase()} ${path}`)) operation.requestBody.required = false;
    }
  }
  return doc as ReturnType<SwaggerTransformObject>;
};
