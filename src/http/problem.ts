import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { AppError, type FieldError } from './errors.ts';
import { plainMessage, type IssueFacts } from './plain-messages.ts';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Seconds a client should wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECS = 2;
/** The OAuth form of the same answer, for everything under /oidc (RFC 6749 5.2 shape). */
export const OAUTH_TEMPORARILY_UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'the service is temporarily unavailable; retry shortly',
} as const;

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extra: string]: unknown;
}

function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  // Extra members never override the standard ones.
  return { ...extra, type: 'about:blank', title: TITLES[status] ?? 'Error', status, code, detail };
}

function fieldName(path: readonly PropertyKey[], where: string): string {
  const joined = path.map(String).join('.');
  return where === 'body' ? joined || 'body' : `${where}.${joined}`.replace(/\.$/, '');
}

/** Renders every error as RFC 9457 problem+json with a stable code (DESIGN rule 9). */
export function registerProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let body: Problem;
    if (isDatabaseUnavailable(error)) {
      // An outage is not a bug: one line, no stack, and an answer the client can retry.
      request.log.warn({ reason: error.message }, 'database unavailable');
      reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECS));
      if (/^\/oidc(\/|\?|$)/.test(request.url)) return reply.status(503).header('cache-control', 'no-store').send(OAUTH_TEMPORARILY_UNAVAILABLE);
      body = problem(503, 'database_unavailable', 'the database is unavailable; retry shortly');
    } else if (error instanceof AppError) {
      body = problem(error.status, error.code, error.message, error.extra);
      if (error.status === 429 && typeof error.extra.retry_after === 'number') reply.header('retry-after', String(error.extra.retry_after));
    } else if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const errors: FieldError[] = error.validation.map((v) => {
        const field = fieldName(v.instancePath.split('/').filter(Boolean), where);
        const facts = { ...v.params, code: v.keyword, message: v.message ?? '' } as IssueFacts;
        return { field, message: plainMessage(facts, field) };
      });
      body = problem(400, 'validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
    } else if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
      body = problem(500, 'internal_error', 'internal error');
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, body too large.
      const code = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : error.statusCode === 413 ? 'payload_too_large' : 'bad_request';
      body = problem(error.statusCode, code, error.message);
    } else {
      request.log.error({ err: error }, 'unhandled error');
      body = problem(500, 'internal_error', 'internal error');
    }
    return reply.status(body.status).type('application/problem+json').send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = path.startsWith('/api/') ? allowedMethods(app, path) : [];
    if (allowed.length) {
      // RFC 9110 §15.5.6: the resource exists, this method does not; say which do.
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .type('application/problem+json')
        .send(problem(405, 'method_not_allowed', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`));
    }
    return reply.status(404).type('application/problem+json').send(problem(404, 'not_found', `no route for ${request.method} ${path}`));
  });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The methods routed for this concrete path, catch-alls (the portal's `/*`) aside. Only
 * the most specific routes count: /templates/requestable is a static GET route, and the
 * PATCH of /templates/:id that also matches it would only answer that it is no id.
 */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  const matches = METHODS.flatMap((method) => {
    const found = app.findRoute({ method: method as 'GET', url: path });
    const params = Object.keys(found?.params ?? {});
    return found && !params.includes('*') ? [{ method, params: params.length }] : [];
  });
  const fewest = Math.min(...matches.map((m) => m.params));
  return matches.filter((m) => m.params === fewest).map((m) => m.method);
}
