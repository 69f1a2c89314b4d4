import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { expect } from 'vitest';
import type { App } from '../../src/app.ts';
import type { AccessSignal } from '../../src/modules/signals/signals.types.ts';
import { ApiClient } from './api-client.ts';
import { addMember, createApp, createGroup, createMapping, createUser, type AppFixture } from './oidc-fixtures.ts';
import { relyingParty } from './oidc-rp.ts';
import type { TestServer } from './server.ts';

export const SSF_RESOURCE = 'urn:interim:ssf';
export const SSF_RESOURCE_SERVER_ID = '01930000-0000-7000-8000-00000000055f';
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
export const EVENTS = {
  claims: `${CAEP}token-claims-change`,
  session: `${CAEP}session-revoked`,
  credential: `${CAEP}credential-change`,
  disabled: `${RISC}account-disabled`,
  enabled: `${RISC}account-enabled`,
  purged: `${RISC}account-purged`,
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
} as const;

export type SetPayload = JWTPayload & { jti: string; txn?: string; sub_id: Record<string, string>; events: Record<string, Record<string, unknown>> };

/**
 * A real SSF push receiver (RFC 8935) on loopback: every SET is verified against the JWKS
 * fetched from the server (RS256, typ secevent+jwt, kid), its iss, aud, iat (near the
 * server's clock), one event, and the uniqueness of the jti of every SET it accepted.
 */
export async function startSsfReceiver(server: TestServer) {
  const issuer = `${server.url}/oidc`;
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const accepted: SetPayload[] = [];
  const attempts: { jti?: string; authorization?: string; contentType?: string }[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  let answers: number[] = [];
  const flight = { now: 0, max: 0, held: null as Promise<void> | null };
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      flight.max = Math.max(flight.max, ++flight.now);
      if (flight.held) await flight.held;
      flight.now--;
      const jwt = Buffer.concat(chunks).toString('utf8');
      try {
        const header = decodeProtectedHeader(jwt);
        const aud = (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { aud: string }).aud;
        const { payload } = await jwtVerify(jwt, jwks, { issuer, audience: aud, typ: 'secevent+jwt', algorithms: ['RS256'] });
        const set = payload as SetPayload;
        attempts.push({ jti: set.jti, authorization: req.headers.authorization, contentType: req.headers['content-type'] });
        if (!header.kid) problems.push('no kid');
        if (req.headers['content-type'] !== 'application/secevent+jwt') problems.push(`content-type ${req.headers['content-type']}`);
        if (Math.abs(set.iat! * 1000 - server.app.core.clock.now()) > 60_000) problems.push(`iat ${set.iat} far from now`);
        if (Object.keys(set.events).length !== 1) problems.push(`events ${JSON.stringify(set.events)}`);
        if (!set.sub_id?.format) problems.push('no sub_id');
        const status = answers.shift() ?? 202;
        if (status === 202 || status === 200) {
          if (seen.has(set.jti)) problems.push(`jti ${set.jti} accepted twice`);
          seen.add(set.jti);
          accepted.push(set);
          res.writeHead(status).end();
        } else {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ err: status < 500 ? 'invalid_request' : 'unavailable', description: 'receiver says no' }));
        }
      } catch (error) {
        problems.push(`unverifiable SET: ${(error as Error).message}`);
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ err: 'invalid_key', description: 'bad signature' }));
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    attempts,
    problems,
    /** The statuses the next SETs get (then 202). */
    answer(...statuses: number[]) {
      answers = statuses;
    },
    /** Requests at once, at most, since the last call (then reset). */
    maxInFlight() {
      const max = flight.max;
      flight.max = 0;
      return max;
    },
    /** Keeps every answer waiting until the returned release is called. */
    hold(): () => void {
      let release!: () => void;
      flight.held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        flight.held = null;
        release();
      };
    },
    /** SETs accepted for one stream (aud is the application; the stream's path tells streams apart). */
    of(event: string) {
      return accepted.filter((s) => event in s.events);
    },
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}
export type SsfReceiver = Awaited<ReturnType<typeof startSsfReceiver>>;

/** A receiver application: client credentials, allowed the built-in SSF resource server; its token's scopes as asked. */
export async function receiverApp(server: TestServer): Promise<{ app: AppFixture; token: (scope?: string) => Promise<string>; api: (scope?: string) => Promise<ApiClient> }> {
  const app = await createApp(server, { authMethod: 'client_secret_post', grantTypes: ['client_credentials'], resources: [] });
  const current = await server.admin.get(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`);
  expect(current.status).toBe(200);
  const patched = await server.admin.patch(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`, { app_ids: [...(current.body.app_ids as string[]), app.id] });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  const config = await relyingParty(server, app, 'EdDSA', 'post');
  const token = async (scope = 'ssf.manage') => (await client.clientCredentialsGrant(config, { resource: SSF_RESOURCE, scope })).access_token;
  return { app, token, api: async (scope?: string) => new ApiClient(server.url).withToken(await token(scope)) };
}

/** A user with a mapped claim for the application (so they may be a subject of its streams). */
export async function subjectOf(server: TestServer, appId: string, tag: string): Promise<{ userId: string; email: string }> {
  const email = `${tag}-${Math.random().toString(36).slice(2, 8)}@example.test`;
  const userId = await createUser(server, email);
  const group = await createGroup(server, `g-${tag}-${userId.slice(-6)}`);
  await addMember(server, group, userId);
  await createMapping(server, appId, 'role', 'reader', [group]);
  return { userId, email };
}

/** Records signals as a path does: in its own transaction, through services.recordSignals. */
export async function record(server: TestServer, signals: AccessSignal[]): Promise<void> {
  await server.app.core.db.transaction().execute((trx) => server.app.services.recordSignals(trx, signals));
}

export async function pushStream(api: ApiClient, receiver: { url: string }, extra: Record<string, unknown> = {}, path = '/events'): Promise<string> {
  const res = await api.post('/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${receiver.url}${path}`, authorization_header: 'Bearer receiver-secret' }, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.stream_id as string;
}

/** Verifies one SET as a poll receiver does: signature against the JWKS, iss, aud, typ. */
export async function verifySet(server: TestServer, jwt: string, aud: string): Promise<SetPayload> {
  const issuer = `${server.url}/oidc`;
  const { payload, protectedHeader } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${issuer}/jwks`)), { issuer, audience: aud, typ: 'secevent+jwt', algorithms: ['RS256'] });
  expect(protectedHeader.kid).toBeTruthy();
  expect(Object.keys((payload as SetPayload).events)).toHaveLength(1);
  return payload as SetPayload;
}

/**
 * For benchmarks and end-to-end tests that drive an App in process (app.http.inject): lets
 * the application use SSF (the built-in resource server), takes its ssf.manage token with
 * client_secret_basic, and creates a push stream to `endpoint`. Returns the stream id and
 * the token (for addSubjectsByInject).
 */
export async function pushStreamByInject(
  app: App,
  adminToken: string,
  client: { id: string; secret: string },
  endpoint: string,
  opts: { events?: string[]; format?: 'iss_sub' | 'email'; authorizationHeader?: string } = {},
): Promise<{ streamId: string; token: string }> {
  const admin = { authorization: `Bearer ${adminToken}` };
  const url = `/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`;
  const current = await app.http.inject({ method: 'GET', url, headers: admin });
  if (current.statusCode !== 200) throw new Error(`GET ${url} → ${current.statusCode}: ${current.body}`);
  const appIds = (current.json() as { app_ids: string[] }).app_ids;
  const patched = await app.http.inject({ method: 'PATCH', url, headers: admin, payload: { app_ids: [...new Set([...appIds, client.id])] } });
  if (patched.statusCode !== 200) throw new Error(`PATCH ${url} → ${patched.statusCode}: ${patched.body}`);
  const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64');
  const granted = await app.http.inject({
    method: 'POST',
    url: '/oidc/token',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', resource: SSF_RESOURCE, scope: 'ssf.manage' }).toString(),
  });
  if (granted.statusCode !== 200) throw new Error(`token → ${granted.statusCode}: ${granted.body}`);
  const token = (granted.json() as { access_token: string }).access_token;
  const delivery = { method: PUSH, endpoint_url: endpoint, ...(opts.authorizationHeader ? { authorization_header: opts.authorizationHeader } : {}) };
  const created = await app.http.inject({
    method: 'POST',
    url: '/ssf/streams',
    headers: { authorization: `Bearer ${token}` },
    payload: { delivery, ...(opts.events ? { events_requested: opts.events } : {}), ...(opts.format ? { format: opts.format } : {}) },
  });
  if (created.statusCode !== 201) throw new Error(`POST /ssf/streams → ${created.statusCode}: ${created.body}`);
  return { streamId: (created.json() as { stream_id: string }).stream_id, token };
}

/** Adds users (by id, as iss_sub) to a stream, `width` calls at a time; each must already have a grant, consent or mapping for the application. */
export async function addSubjectsByInject(app: App, token: string, streamId: string, userIds: readonly string[], width = 8): Promise<void> {
  const iss = `${app.core.baseUrl}/oidc`;
  let next = 0;
  const worker = async () => {
    while (next < userIds.length) {
      const sub = userIds[next++]!;
      const res = await app.http.inject({ method: 'POST', url: '/ssf/subjects/add', headers: { authorization: `Bearer ${token}` }, payload: { stream_id: streamId, subject: { format: 'iss_sub', iss, sub } } });
      if (res.statusCode !== 204) throw new Error(`POST /ssf/subjects/add → ${res.statusCode}: ${res.body}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, userIds.length) }, worker));
}
