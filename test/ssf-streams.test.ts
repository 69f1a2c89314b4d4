import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import * as client from 'openid-client';
import { createApp, createUser, TEST_API } from './helpers/oidc-fixtures.ts';
import { relyingParty } from './helpers/oidc-rp.ts';
import { EVENTS, POLL, PUSH, SSF_RESOURCE_SERVER_ID, pushStream, receiverApp, record, startSsfReceiver, subjectOf, type SsfReceiver } from './helpers/ssf.ts';

/** SSF 1.0 transmitter: metadata, stream management, status, subjects, verification, and who may do what. */
describeEachDialect(
  'SSF transmitter: metadata and streams',
  (server) => {
    let receiver: SsfReceiver;
    beforeAll(async () => {
      receiver = await startSsfReceiver(server());
    });
    afterAll(async () => {
      expect(receiver.problems).toEqual([]);
      await receiver.close();
    });

    it('publishes the transmitter configuration at the issuer path and the root, with the provider JWKS', async () => {
      const s = server();
      const issuer = `${s.url}/oidc`;
      for (const path of ['/.well-known/ssf-configuration/oidc', '/.well-known/ssf-configuration']) {
        const res = await new ApiClient(s.url).get(path);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          spec_version: '1_0',
          issuer,
          jwks_uri: `${issuer}/jwks`,
          delivery_methods_supported: [PUSH, POLL],
          configuration_endpoint: `${s.url}/ssf/streams`,
          status_endpoint: `${s.url}/ssf/status`,
          add_subject_endpoint: `${s.url}/ssf/subjects/add`,
          remove_subject_endpoint: `${s.url}/ssf/subjects/remove`,
          verification_endpoint: `${s.url}/ssf/verify`,
          authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
          default_subjects: 'NONE',
        });
      }
      // The API reference documents the stream endpoints, with the receiver's OAuth token as their security.
      const openapi = (await (await fetch(`${s.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, { type: string }> } };
      expect(openapi.components.securitySchemes.ssfReceiver!.type).toBe('oauth2');
      for (const [path, method] of [['/ssf/streams', 'post'], ['/ssf/streams', 'get'], ['/ssf/status', 'post'], ['/ssf/subjects/add', 'post'], ['/ssf/verify', 'post'], ['/ssf/poll/{stream_id}', 'post']] as const) {
        const op = openapi.paths[path]![method]!;
        expect(JSON.stringify(op.security), `${method} ${path}`).toContain('ssfReceiver');
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403']));
      }
      const discovery = await new ApiClient(s.url).get('/oidc/.well-known/openid-configuration');
      expect(discovery.body.issuer).toBe(issuer);
      const jwks = (await (await fetch(`${s.url}/oidc/jwks`)).json()) as { keys: { alg: string; kty: string; n: string }[] };
      expect(jwks.keys.some((k: { alg: string; kty: string; n: string }) => k.alg === 'RS256' && Buffer.from(k.n, 'base64url').length >= 256)).toBe(true);
    });

    it('creates, reads, lists, changes, replaces and deletes a stream; status and cap', async () => {
      const s = server();
      const { app, api: apiOf } = await receiverApp(s);
      const api = await apiOf();
      const created = await api.post('/ssf/streams', {
        delivery: { method: PUSH, endpoint_url: `${receiver.url}/a`, authorization_header: 'Bearer x' },
        events_requested: [EVENTS.claims, EVENTS.session, 'https://schemas.openid.net/secevent/caep/event-type/session-revoked'],
        description: 'mine',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.stream_id as string;
      expect(created.body).toMatchObject({ iss: `${s.url}/oidc`, aud: app.id, delivery: { method: PUSH, endpoint_url: `${receiver.url}/a` }, description: 'mine', format: 'iss_sub' });
      expect(created.body.delivery.authorization_header).toBeUndefined();
      expect(created.body.events_delivered).toEqual([EVENTS.claims, EVENTS.session, EVENTS.session]);
      expect(created.body.events_supported).toHaveLength(6);
      // Sealed at rest.
      const row = await s.app.core.db.selectFrom('ssf_streams').select('authorization_header_encrypted').where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.authorization_header_encrypted).toMatch(/^v2\./);
      expect(row.authorization_header_encrypted).not.toContain('Bearer');

      expect((await api.get(`/ssf/streams?stream_id=${id}`)).body).toEqual(created.body);
      const poll = await api.post('/ssf/streams', { delivery: { method: POLL }, format: 'email' });
      expect(poll.status).toBe(201);
      expect(poll.body.delivery).toEqual({ method: POLL, endpoint_url: `${s.url}/ssf/poll/${poll.body.stream_id}` });
      expect(poll.body.events_requested).toHaveLength(6);
      const list = await api.get('/ssf/streams');
      expect(list.body.map((x: { stream_id: string }) => x.stream_id).sort()).toEqual([id, poll.body.stream_id].sort());

      const patched = await api.patch('/ssf/streams', { stream_id: id, description: 'changed', events_requested: [EVENTS.purged] });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      expect(patched.body).toMatchObject({ description: 'changed', events_delivered: [EVENTS.purged], delivery: { endpoint_url: `${receiver.url}/a` } });
      const replaced = await api.request('PUT', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, endpoint_url: `${receiver.url}/b` }, events_requested: [EVENTS.disabled] });
      expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
      expect(replaced.body).toMatchObject({ events_requested: [EVENTS.disabled], delivery: { endpoint_url: `${receiver.url}/b` } });
      expect(replaced.body.description).toBeUndefined();

      expect((await api.get(`/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: 'enabled' });
      const paused = await api.post('/ssf/status', { stream_id: id, status: 'paused', reason: 'maintenance' });
      expect(paused.body).toEqual({ stream_id: id, status: 'paused', reason: 'maintenance' });
      expect((await api.get(`/ssf/status?stream_id=${id}`)).body).toEqual({ stream_id: id, status: 'paused', reason: 'maintenance' });
      expect((await api.post('/ssf/status', { stream_id: id, status: 'sleeping' })).status).toBe(400);

      // Capped per application (INTERIM_SSF_MAX_STREAMS_PER_APP=3 here), concurrently too.
      const racers = await Promise.all([1, 2, 3].map(() => api.post('/ssf/streams', { delivery: { method: POLL } })));
      expect(racers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      expect(racers.find((r) => r.status === 409)!.body.code).toBe('too_many_streams');

      expect((await api.delete(`/ssf/streams?stream_id=${id}`)).status).toBe(204);
      const audit = await s.admin.get(`/api/v1/audit-events?target_id=${id}`);
      expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['ssf_stream.created', 'ssf_stream.deleted', 'ssf_stream.status_changed', 'ssf_stream.updated', 'ssf_stream.updated']);
      expect(audit.body.items.every((e: { data: { app_id: string } }) => e.data.app_id === app.id)).toBe(true);
      expect(JSON.stringify(audit.body)).not.toContain('Bearer x');
      expect((await api.get(`/ssf/streams?stream_id=${id}`)).status).toBe(404);
      expect((await api.delete(`/ssf/streams?stream_id=${id}`)).status).toBe(404);
    });

    it('refuses bad input with a clear message', async () => {
      const { api: apiOf } = await receiverApp(server());
      const api = await apiOf();
      const cases: [unknown, string][] = [
        [{ delivery: { method: PUSH, endpoint_url: 'not a url' } }, 'endpoint_url'],
        [{ delivery: { method: PUSH, endpoint_url: 'ftp://example.test/x' } }, 'endpoint_url'],
        [{ delivery: { method: PUSH, endpoint_url: 'https://user:pw@example.test/x' } }, 'endpoint_url'],
        [{ delivery: { method: PUSH } }, 'endpoint_url'],
        [{ delivery: { method: 'urn:example:smoke-signals' } }, 'delivery'],
        [{ delivery: { method: POLL }, events_requested: ['https://example.test/made-up'] }, 'made-up'],
        [{ delivery: { method: POLL }, format: 'phone_number' }, 'format'],
        [{ delivery: { method: PUSH, endpoint_url: `${receiver.url}/x`, authorization_header: 'a\nb' } }, 'authorization_header'],
      ];
      for (const [body, needle] of cases) {
        const res = await api.post('/ssf/streams', body);
        expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(400);
        expect(JSON.stringify(res.body), JSON.stringify(body)).toContain(needle);
      }
      const stream = await pushStream(api, receiver);
      expect((await api.patch('/ssf/streams', { stream_id: stream, events_requested: ['urn:nope'] })).status).toBe(400);
      expect((await api.post('/ssf/subjects/add', { stream_id: stream, subject: { format: 'phone_number', phone_number: '+1' } })).status).toBe(400);
      expect((await api.post('/ssf/subjects/add', { stream_id: stream })).status).toBe(400);
      expect((await api.post(`/ssf/poll/${stream}`, { returnImmediately: true })).status).toBe(400);
    });

    it('answers 401 without a valid token, 403 without the scope, 404 for another application’s stream', async () => {
      const s = server();
      const mine = await receiverApp(s);
      const theirs = await receiverApp(s);
      const manage = await mine.api();
      const stream = await pushStream(manage, receiver);
      const anonymous = new ApiClient(s.url);
      const bogus = new ApiClient(s.url).withToken('not-a-jwt');
      const adminToken = new ApiClient(s.url).withToken(s.adminToken);
      const readOnly = await mine.api('ssf.read');
      const noScope = await mine.api('');
      const other = await theirs.api();
      const calls: [string, string, unknown?][] = [
        ['GET', '/ssf/streams'],
        ['GET', `/ssf/streams?stream_id=${stream}`],
        ['POST', '/ssf/streams', { delivery: { method: POLL } }],
        ['PATCH', '/ssf/streams', { stream_id: stream, description: 'x' }],
        ['PUT', '/ssf/streams', { stream_id: stream, delivery: { method: POLL }, events_requested: [EVENTS.claims] }],
        ['DELETE', `/ssf/streams?stream_id=${stream}`],
        ['GET', `/ssf/status?stream_id=${stream}`],
        ['POST', '/ssf/status', { stream_id: stream, status: 'disabled' }],
        ['POST', '/ssf/subjects/add', { stream_id: stream, subject: { format: 'email', email: 'a@example.test' } }],
        ['POST', '/ssf/subjects/remove', { stream_id: stream, subject: { format: 'email', email: 'a@example.test' } }],
        ['POST', '/ssf/verify', { stream_id: stream }],
        ['POST', `/ssf/poll/${stream}`, {}],
      ];
      for (const [method, path, body] of calls) {
        const label = `${method} ${path}`;
        expect((await anonymous.request(method, path, body)).status, label).toBe(401);
        expect((await bogus.request(method, path, body)).status, label).toBe(401);
        expect((await adminToken.request(method, path, body)).status, label).toBe(401);
        expect((await noScope.request(method, path, body)).status, label).toBe(403);
        const write = method !== 'GET' && !path.startsWith('/ssf/poll');
        if (write) expect((await readOnly.request(method, path, body)).status, label).toBe(403);
        if (path !== '/ssf/streams' || method === 'PATCH' || method === 'PUT') expect((await other.request(method, path, body)).status, label).toBe(404);
      }
      expect((await other.get('/ssf/streams')).body).toEqual([]);
      expect((await readOnly.get(`/ssf/streams?stream_id=${stream}`)).status).toBe(200);
      expect((await manage.get(`/ssf/status?stream_id=${stream}`)).body.status).toBe('enabled');

      // A token of the same application for another resource server is not an SSF token.
      const plain = await createApp(s, { authMethod: 'client_secret_post', grantTypes: ['client_credentials'] });
      const rp = await relyingParty(s, plain, 'EdDSA', 'post');
      const apiToken = (await client.clientCredentialsGrant(rp, { resource: TEST_API })).access_token;
      expect((await new ApiClient(s.url).withToken(apiToken).get('/ssf/streams')).status).toBe(401);
    });

    it('keeps the built-in SSF resource server: it cannot be deleted nor its audience or scopes changed', async () => {
      const { admin } = server();
      expect((await admin.delete(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`)).status).toBe(409);
      expect((await admin.patch(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`, { audience: 'https://elsewhere.example.test' })).status).toBe(409);
      expect((await admin.patch(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`, { scopes: ['x'] })).status).toBe(409);
      const still = await admin.get(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`);
      expect(still.body).toMatchObject({ audience: 'urn:interim:ssf', scopes: ['ssf.manage', 'ssf.read'] });
    });

    it('sends a verification SET with the receiver’s state through the stream', async () => {
      const s = server();
      const { app, api: apiOf } = await receiverApp(s);
      const api = await apiOf();
      const stream = await pushStream(api, receiver, {}, '/verify');
      expect((await api.post('/ssf/verify', { stream_id: stream, state: 'abc-123' })).status).toBe(204);
      await expect.poll(() => receiver.of(EVENTS.verification).find((v) => v.events[EVENTS.verification]!.state === 'abc-123'), { timeout: 5000 }).toBeTruthy();
      const set = receiver.of(EVENTS.verification).find((v) => v.events[EVENTS.verification]!.state === 'abc-123')!;
      expect(set).toMatchObject({ aud: app.id, sub_id: { format: 'opaque', id: stream } });
      expect(receiver.attempts.find((a) => a.jti === set.jti)?.authorization).toBe('Bearer receiver-secret');
    });

    it('adds and removes subjects (always 204); a user without a grant, consent or mapping for the application gets nothing', async () => {
      const s = server();
      const { app, api: apiOf } = await receiverApp(s);
      const other = await receiverApp(s);
      const api = await apiOf();
      const stream = await pushStream(api, receiver, { format: 'email' }, '/subjects');
      const member = await subjectOf(s, app.id, 'member');
      const stranger = await subjectOf(s, other.app.id, 'stranger');
      const nobody = await createUser(s, `nobody-${Date.now()}@example.test`);
      for (const subject of [
        { format: 'email', email: member.email.toUpperCase() },
        { format: 'email', email: stranger.email },
        { format: 'iss_sub', iss: `${s.url}/oidc`, sub: nobody },
        { format: 'email', email: 'unknown@example.test' },
        { format: 'iss_sub', iss: 'https://other-issuer.example.test', sub: member.userId },
      ]) {
        expect((await api.post('/ssf/subjects/add', { stream_id: stream, subject })).status, JSON.stringify(subject)).toBe(204);
      }
      const initiator = 'admin' as const;
      for (const userId of [member.userId, stranger.userId, nobody]) await record(s, [{ type: 'account_disabled', userId, reason: 'disabled by an admin', initiator }]);
      await s.app.runWorkerOnce();
      const heard = receiver.accepted.filter((x) => x.aud === app.id && EVENTS.disabled in x.events);
      expect(heard.map((x) => x.sub_id)).toEqual([{ format: 'email', email: member.email }]);

      expect((await api.post('/ssf/subjects/remove', { stream_id: stream, subject: { format: 'iss_sub', iss: `${s.url}/oidc`, sub: member.userId } })).status).toBe(204);
      await record(s, [{ type: 'account_enabled', userId: member.userId, reason: 'enabled again', initiator }]);
      await s.app.runWorkerOnce();
      expect(receiver.accepted.filter((x) => x.aud === app.id && EVENTS.enabled in x.events)).toEqual([]);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SSF_MAX_STREAMS_PER_APP: '3' },
);

describeEachDialect('SSF transmitter: push URLs follow the webhooks’ SSRF rules', (server) => {
  it('refuses plain http and loopback, private and link-local addresses', async () => {
    const { api: apiOf } = await receiverApp(server());
    const api = await apiOf();
    for (const url of ['http://receiver.example.test/events', 'https://127.0.0.1/events', 'https://10.1.2.3/events', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://localhost/x']) {
      const res = await api.post('/ssf/streams', { delivery: { method: PUSH, endpoint_url: url } });
      expect(res.status, `${url} → ${JSON.stringify(res.body)}`).toBe(400);
      expect(JSON.stringify(res.body)).toContain('delivery.endpoint_url');
    }
    const ok = await api.post('/ssf/streams', { delivery: { method: PUSH, endpoint_url: 'https://receiver.example.test/events' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });
});
