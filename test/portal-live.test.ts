import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../src/http/auth.ts';
import { createLiveHub } from '../src/modules/live/live.hub.ts';
import { sha256 } from '../src/security/tokens.ts';
import { createPerson, PASSWORD, setUpAccess, validRequest, type Person } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startTestServer } from './helpers/server.ts';

interface Stream {
  status: number;
  events: { type: string; request_id: string | null }[];
  comments: string[];
  ended: Promise<void>;
  close(): void;
}

/** Opens an event stream and collects its messages and comment lines. */
async function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const stream: Stream = { status: res.status, events: [], comments: [], ended: Promise.resolve(), close: () => abort.abort() };
  if (res.status !== 200) return stream;
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  stream.ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) stream.events.push(JSON.parse(line.slice(6)));
            else if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
          }
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return stream;
}

const sessionHeaders = (client: ApiClient) => ({ cookie: client.cookieHeader });

async function eventually(check: () => void, timeoutMs = 8000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describeEachDialect('GET /api/v1/live: server-sent events from the outbox', (server) => {
  const streams: Stream[] = [];
  const open = async (headers: Record<string, string>) => {
    const s = await openStream(`${server().url}/api/v1/live`, headers);
    streams.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of streams.splice(0)) s.close();
  });

  it('needs a caller', async () => {
    const res = await fetch(`${server().url}/api/v1/live`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('tells each listener only about requests they may see, with {type, request_id} only', async () => {
    const s = await setUpAccess(server());
    const [requester, approver, outsider, escalation, admin] = await Promise.all([
      open(sessionHeaders(s.requester.client)),
      open(sessionHeaders(s.approver.client)),
      open(sessionHeaders(s.outsider.client)),
      open(sessionHeaders(s.escalationMember.client)),
      open({ authorization: `Bearer ${server().adminToken}` }),
    ]);
    for (const stream of [requester, approver, outsider, escalation, admin]) expect(stream.status).toBe(200);

    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const event = { type: 'access_request.submitted', request_id: id };
    await eventually(() => {
      expect(requester.events).toContainEqual(event);
      expect(approver.events).toContainEqual(event);
      expect(admin.events).toContainEqual(event);
    });

    expect((await s.approver.client.post(`/api/v1/access-requests/${id}/comments`, { body: 'why?' })).status).toBe(201);
    await eventually(() => expect(requester.events).toContainEqual({ type: 'access_request.comment_added', request_id: id }));
    expect((await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, {})).status).toBe(200);
    await eventually(() => expect(requester.events).toContainEqual({ type: 'access_request.approved', request_id: id }));

    // Nothing about this request reached those who may not see it, and each event came once.
    expect(outsider.events.filter((e) => e.request_id === id)).toEqual([]);
    expect(escalation.events.filter((e) => e.request_id === id)).toEqual([]);
    expect(requester.events.filter((e) => e.request_id === id).map((e) => e.type)).toEqual([
      'access_request.submitted',
      'access_request.comment_added',
      'access_request.approved',
      'access_request.activated',
    ]);
    for (const e of requester.events) expect(Object.keys(e).sort()).toEqual(['request_id', 'type']);
  });

  it('ends its streams cleanly when the server closes', async () => {
    const own = await startTestServer(server().dialect);
    const stream = await openStream(`${own.url}/api/v1/live`, { authorization: `Bearer ${own.adminToken}` });
    expect(stream.status).toBe(200);
    await own.close();
    await stream.ended;
    expect(stream.comments).toContain('connected');
  });

  it('sends heartbeats, refuses too many streams, and ends a stream whose session ended', async () => {
    const s = await setUpAccess(server());
    const { core, http } = server().app;
    const hub = createLiveHub(core, { pollMs: 50, heartbeatMs: 100, sessionIdleMs: server().config.session.idleMs, maxPerUser: 2 }, http.log);
    const cookie = /__Host-interim_session=([^;]+)/.exec(s.requester.client.cookieHeader)![1]!;
    expect(SESSION_COOKIE).toBe('__Host-interim_session');
    const actor = { userId: s.requester.id, isAdmin: false, via: 'session' as const, sessionId: sha256(cookie), mustChangePassword: false };
    const listener: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      hub.add(actor, res);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/`;
    try {
      const first = await openStream(url, {});
      streams.push(first);
      await eventually(() => expect(first.comments).toContain('keep-alive'));
      const second = await openStream(url, {});
      streams.push(second);
      await eventually(() => expect(hub.size).toBe(2));
      expect(hub.full(actor)).toBe(true);

      // Signing out of the portal ends the stream at the next poll.
      expect((await s.requester.client.delete('/api/v1/session')).status).toBe(204);
      await Promise.all([first.ended, second.ended]);
      expect(hub.size).toBe(0);
    } finally {
      hub.close();
      await new Promise((r) => listener.close(r));
    }
  });

  it('ends a stream at the next poll once its session ends by sign-out, disable or password change, before any further event', async () => {
    const s = await setUpAccess(server());
    const { core, http } = server().app;
    // Heartbeats only every minute: what ends these streams is the per-poll session check.
    const hub = createLiveHub(core, { pollMs: 50, heartbeatMs: 60_000, sessionIdleMs: server().config.session.idleMs, maxPerUser: 5 }, http.log);
    const actors = new Map<string, Parameters<typeof hub.add>[0]>();
    const listener: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': connected\n\n');
      hub.add(actors.get(req.url!)!, res);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const streamOf = async (person: Person, client = person.client) => {
      const cookie = /__Host-interim_session=([^;]+)/.exec(client.cookieHeader)![1]!;
      const path = `/${person.id}/${actors.size}`;
      actors.set(path, { userId: person.id, isAdmin: false, via: 'session', sessionId: sha256(cookie), mustChangePassword: false });
      const stream = await openStream(base + path, {});
      streams.push(stream);
      return stream;
    };
    const submit = async (person: Person) => {
      const res = await person.client.post('/api/v1/access-requests', validRequest(s.templateId));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const endsQuickly = async (stream: Stream) => {
      const started = Date.now();
      await stream.ended;
      expect(Date.now() - started).toBeLessThan(5000);
    };

    try {
      // Sign-out.
      const signedOut = await streamOf(s.requester);
      const first = await submit(s.requester);
      await eventually(() => expect(signedOut.events).toContainEqual({ type: 'access_request.submitted', request_id: first }));
      expect((await s.requester.client.delete('/api/v1/session')).status).toBe(204);
      await endsQuickly(signedOut);

      // Disabled by an admin.
      const disabledPerson = await createPerson(server(), 'disabled-live');
      const disabled = await streamOf(disabledPerson);
      await eventually(() => expect(hub.size).toBe(1));
      expect((await server().admin.patch(`/api/v1/users/${disabledPerson.id}`, { disabled: true })).status).toBe(200);
      await endsQuickly(disabled);

      // Own password change from another session ends this one; the session that changed it keeps its stream.
      const changer = await createPerson(server(), 'changer-live');
      const other = new ApiClient(server().url);
      expect((await other.signIn(changer.email, PASSWORD)).status).toBe(200);
      const otherStream = await streamOf(changer, other);
      const ownStream = await streamOf(changer);
      await eventually(() => expect(hub.size).toBe(2));
      expect((await changer.client.post('/api/v1/me/password', { current_password: PASSWORD, new_password: 'a brand new long password' })).status).toBe(204);
      await endsQuickly(otherStream);
      expect(hub.size).toBe(1);

      // A password reset by an admin ends every session, the changer's own included.
      expect((await server().admin.patch(`/api/v1/users/${changer.id}`, { password: 'an admin set long password' })).status).toBe(200);
      await endsQuickly(ownStream);

      // Nothing reached the ended streams after they ended.
      const later = await submit(s.secondApprover);
      await new Promise((r) => setTimeout(r, 300));
      for (const stream of [signedOut, disabled, otherStream, ownStream]) expect(stream.events.map((e) => e.request_id)).not.toContain(later);
      expect(signedOut.events.map((e) => e.request_id)).toEqual([first]);
      expect(hub.size).toBe(0);
    } finally {
      hub.close();
      await new Promise((r) => listener.close(r));
    }
  });

  it('ends a stream opened with an API token once the token is revoked or its user disabled', async () => {
    const person = await createPerson(server(), 'token-live');
    const issue = async () => {
      const res = await person.client.post('/api/v1/api-tokens', { name: `live-${Date.now()}`, expires_at: new Date(Date.now() + 86_400_000).toISOString() });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; token: string };
    };
    const revoked = await issue();
    const kept = await issue();
    const [onRevoked, onKept] = await Promise.all([open({ authorization: `Bearer ${revoked.token}` }), open({ authorization: `Bearer ${kept.token}` })]);
    expect(onRevoked.status).toBe(200);
    expect(onKept.status).toBe(200);

    // The server's own hub polls every second: the revoked token's stream ends at the next poll, the other lives on.
    expect((await person.client.delete(`/api/v1/api-tokens/${revoked.id}`)).status).toBe(204);
    const started = Date.now();
    await onRevoked.ended;
    expect(Date.now() - started).toBeLessThan(5000);
    let keptEnded = false;
    void onKept.ended.then(() => (keptEnded = true));
    await new Promise((r) => setTimeout(r, 1500));
    expect(keptEnded).toBe(false);

    expect((await server().admin.patch(`/api/v1/users/${person.id}`, { disabled: true })).status).toBe(200);
    await onKept.ended;
  });
});
