import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { problemBody } from '../../http/openapi.ts';
import type { HttpApp } from '../../http/types.ts';
import type { Receiver, SsfService } from './ssf.service.ts';
import {
  POLL_METHOD,
  PUSH_METHOD,
  createStreamIn,
  pollIn,
  replaceStreamIn,
  statusIn,
  statusOut,
  streamIdQuery,
  streamOut,
  streamIdRequired,
  subjectRequestIn,
  updateStreamIn,
  verifyIn,
} from './ssf.types.ts';

/** Where the transmitter's endpoints live (outside /api: receivers authenticate with OAuth access tokens, not API tokens). */
export const SSF_PREFIX = '/ssf';

/** SSF 1.0 §7.1: the transmitter configuration metadata. */
export function ssfConfiguration(baseUrl: string, issuer: string) {
  const at = (path: string) => `${baseUrl}${SSF_PREFIX}${path}`;
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/jwks`,
    delivery_methods_supported: [PUSH_METHOD, POLL_METHOD],
    configuration_endpoint: at('/streams'),
    status_endpoint: at('/status'),
    add_subject_endpoint: at('/subjects/add'),
    remove_subject_endpoint: at('/subjects/remove'),
    verification_endpoint: at('/verify'),
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    // Events flow only for subjects a receiver adds (and who have a grant, consent or mapping for it).
    default_subjects: 'NONE',
  };
}

/** The OpenAPI security scheme of the SSF endpoints: a receiver's client-credentials token for the resource urn:interim:ssf. */
export function ssfSecurityScheme(baseUrl: string) {
  return {
    type: 'oauth2',
    description: 'An SSF receiver (an application) with a client-credentials access token for the resource urn:interim:ssf (docs/signals.md)',
    flows: { clientCredentials: { tokenUrl: `${baseUrl}/oidc/token`, scopes: { 'ssf.manage': 'create, change and delete streams; status, subjects, verification, poll', 'ssf.read': 'read streams and status; poll' } } },
  } as const;
}

/**
 * The SSF transmitter's HTTP surface: the configuration metadata (public) at
 * /.well-known/ssf-configuration and /.well-known/ssf-configuration/oidc (the issuer's
 * path), and the stream management and poll endpoints under /ssf for receivers (every
 * call authenticated by the receiver's access token before its input is read).
 */
export function ssfRoutes(app: HttpApp, deps: { ssf: SsfService; baseUrl: string }): void {
  const { ssf } = deps;
  const metadata = ssfConfiguration(deps.baseUrl, ssf.issuer);
  for (const url of ['/.well-known/ssf-configuration', '/.well-known/ssf-configuration/oidc']) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata));
  }

  const receivers = new WeakMap<FastifyRequest, Receiver>();
  const receiver = (request: FastifyRequest) => receivers.get(request)!;

  void app.register(async (scope) => {
    scope.addHook('preValidation', async (request) => {
      receivers.set(request, await ssf.authenticate(request.headers.authorization));
    });
    const api = scope as HttpApp;
    const problem = problemBody;
    const schema = { tags: ['ssf'], security: [{ ssfReceiver: ['ssf.manage'] }] };
    const read = { ...schema, security: [{ ssfReceiver: ['ssf.read'] }, { ssfReceiver: ['ssf.manage'] }] };
    const none = z.null().describe('No content');

    api.post(`${SSF_PREFIX}/streams`, { schema: { ...schema, summary: 'Create a stream (SSF 1.0 §8.1.1.1); delivery push (RFC 8935) or poll (RFC 8936)', body: createStreamIn, response: { 201: streamOut, 409: problem } } }, async (request, reply) => reply.status(201).send(await ssf.create(receiver(request), request.body)));
    api.get(`${SSF_PREFIX}/streams`, { schema: { ...read, summary: 'Read one stream (stream_id) or the caller’s streams', querystring: streamIdQuery, response: { 200: z.union([streamOut, z.array(streamOut)]), 404: problem } } }, async (request) =>
      request.query.stream_id ? ssf.get(receiver(request), request.query.stream_id) : ssf.list(receiver(request)),
    );
    api.patch(`${SSF_PREFIX}/streams`, { schema: { ...schema, summary: 'Change a stream: only the fields given', body: updateStreamIn, response: { 200: streamOut } } }, async (request) => ssf.update(receiver(request), request.body, false));
    api.put(`${SSF_PREFIX}/streams`, { schema: { ...schema, summary: 'Replace a stream’s configuration', body: replaceStreamIn, response: { 200: streamOut } } }, async (request) => ssf.update(receiver(request), request.body, true));
    api.delete(`${SSF_PREFIX}/streams`, { schema: { ...schema, summary: 'Delete a stream', querystring: streamIdRequired, response: { 204: none, 404: problem, 409: problem } } }, async (request, reply) => {
      await ssf.remove(receiver(request), request.query.stream_id);
      return reply.status(204).send(null);
    });

    api.get(`${SSF_PREFIX}/status`, { schema: { ...read, summary: 'A stream’s status', querystring: streamIdRequired, response: { 200: statusOut, 404: problem } } }, async (request) => ssf.status(receiver(request), request.query.stream_id));
    api.post(`${SSF_PREFIX}/status`, { schema: { ...schema, summary: 'Enable, pause (hold events) or disable (drop events) a stream', body: statusIn, response: { 200: statusOut } } }, async (request) => ssf.setStatus(receiver(request), request.body));

    api.post(`${SSF_PREFIX}/subjects/add`, { schema: { ...schema, summary: 'Add a subject (iss_sub or email); always 204, kept only for a user with a grant, consent or mapping for the application', body: subjectRequestIn, response: { 204: none } } }, async (request, reply) => {
      await ssf.addSubject(receiver(request), request.body.stream_id, request.body.subject);
      return reply.status(204).send(null);
    });
    api.post(`${SSF_PREFIX}/subjects/remove`, { schema: { ...schema, summary: 'Remove a subject', body: subjectRequestIn, response: { 204: none } } }, async (request, reply) => {
      await ssf.removeSubject(receiver(request), request.body.stream_id, request.body.subject);
      return reply.status(204).send(null);
    });

    api.post(`${SSF_PREFIX}/verify`, { schema: { ...schema, summary: 'Ask for a verification SET with the given state, through the stream', body: verifyIn, response: { 204: none } } }, async (request, reply) => {
      const { push } = await ssf.verify(receiver(request), request.body.stream_id, request.body.state);
      await reply.status(204).send(null);
      // Pushed after the answer (SSF 1.0 §8.1.4: the receiver gets it asynchronously); a failure is the receiver's to notice.
      if (push) void push().catch((error: unknown) => request.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'ssf verification push failed'));
      return reply;
    });

    api.post(`${SSF_PREFIX}/poll/:stream_id`, { schema: { ...read, summary: 'Poll a stream (RFC 8936): acknowledge, then take up to maxEvents SETs', params: z.object({ stream_id: z.string().min(1).max(100) }), body: pollIn, response: { 200: z.object({ sets: z.record(z.string(), z.string()), moreAvailable: z.boolean() }) } } }, async (request) =>
      ssf.poll(receiver(request), request.params.stream_id, request.body),
    );
  });
}
