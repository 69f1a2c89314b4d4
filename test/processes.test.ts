import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPerson, PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { instanceEnv, runInterim, startInterim, startSecondProcess, waitForValue, type RunningInterim } from './helpers/interim-process.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD as OIDC_PASSWORD } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import type { TestServer } from './helpers/server.ts';

/**
 * Several server processes on one database (issue 11, target 5; docs/operations.md,
 * "Several processes"). Two parts:
 * - two processes behind one public URL, with every request sent to the other process
 *   than the one before (a strict round robin, as a load balancer or `interim serve`'s
 *   cluster may do): sessions, OIDC codes and refresh tokens, key pickup and the live
 *   stream must not care which process a request reaches;
 * - `interim serve` with INTERIM_PROCESSES=2 as an operator runs it: started, bootstrapped
 *   and announced once, a killed server process restarted, SIGTERM stopping them all,
 *   and live streams held on both processes hearing every event.
 * The sign-in throttle and the submission rate limit across two processes are tested in
 * sign-in-throttle.test.ts and request-limits.test.ts (concurrent bursts split over both).
 */

/** A fetch that sends every other request for `publicUrl` to `otherUrl` instead; counts where each went. */
function alternatingFetch(publicUrl: string, otherUrl: string) {
  const realFetch = globalThis.fetch;
  const served = { first: 0, second: 0 };
  let turn = 0;
  const fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(publicUrl)) return realFetch(input, init);
    const toSecond = turn++ % 2 === 1;
    served[toSecond ? 'second' : 'first']++;
    const target = toSecond ? otherUrl + url.slice(publicUrl.length) : url;
    // As a proxy would: the public host goes along (the provider builds its endpoint URLs from it).
    const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
    headers.set('x-forwarded-host', new URL(publicUrl).host);
    const answered = input instanceof Request ? realFetch(new Request(target, input), { ...init, headers }) : realFetch(target, { ...init, headers });
    // The caller asked for the public URL; relative redirects resolve against it, as behind a load balancer.
    return answered.then((res) => Object.defineProperty(res, 'url', { value: url }));
  };
  return { fetch, served };
}

describeEachDialect(
  'two server processes behind one public URL',
  (server) => {
    let second: RunningInterim;
    let secondPort: number;
    let lb: ReturnType<typeof alternatingFetch>;
    beforeAll(async () => {
      // The same public URL as the in-process server: the second process differs only in its port.
      secondPort = await freePort();
      second = await startSecondProcess(server(), { INTERIM_BASE_URL: server().url, INTERIM_PORT: String(secondPort) });
    }, 60_000);
    afterAll(() => second?.stop());
    beforeEach(() => {
      lb = alternatingFetch(server().url, directUrl());
      vi.stubGlobal('fetch', lb.fetch);
    });
    afterEach(() => {
      vi.unstubAllGlobals();
    });
    /** The second process's own address (its INTERIM_BASE_URL is the shared public one). */
    const directUrl = () => `http://127.0.0.1:${secondPort}`;

    it('a session signed in through one process works on the other, and signing out through either ends it on both', async () => {
      const person = await createPerson(server(), 'two-process-session');
      const checks = await Promise.all(Array.from({ length: 6 }, () => person.client.get('/api/v1/session')));
      expect(checks.map((r) => r.status)).toEqual(Array(6).fill(200));
      expect((await person.client.delete('/api/v1/session')).status).toBe(204);
      const after = [];
      for (let i = 0; i < 4; i++) after.push((await person.client.get('/api/v1/session')).status);
      expect(after).toEqual([401, 401, 401, 401]);
      expect(lb.served.second).toBeGreaterThan(3);
    });

    it('redeems a code issued by one process at the other, rotates refresh tokens across both and refuses a replay on either', async () => {
      const app = await createApp(server());
      const email = `rr-${randomBytes(4).toString('hex')}@example.test`;
      await createUser(server(), email);
      const config = await relyingParty(server(), app);
      const before = { ...lb.served };
      const { tokens } = await codeFlow(config, new Browser(server().url), app, { email, password: OIDC_PASSWORD });
      expect(lb.served.second - before.second).toBeGreaterThan(1);
      expect(tokens.id_token).toBeTruthy();

      // Each refresh goes to the other process than the one that issued the token.
      const first = tokens.refresh_token!;
      let current = first;
      for (let i = 0; i < 4; i++) {
        const refreshed = await client.refreshTokenGrant(config, current);
        expect(refreshed.refresh_token).not.toBe(current);
        current = refreshed.refresh_token!;
      }
      // Replaying a rotated token fails, wherever it lands, and ends the family (reuse detection).
      await expect(client.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(client.refreshTokenGrant(config, current)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('two processes redeeming one refresh token at the same instant: exactly one wins', async () => {
      const app = await createApp(server());
      const email = `race-${randomBytes(4).toString('hex')}@example.test`;
      await createUser(server(), email);
      const config = await relyingParty(server(), app);
      const { tokens } = await codeFlow(config, new Browser(server().url), app, { email, password: OIDC_PASSWORD });
      const results = await Promise.allSettled([client.refreshTokenGrant(config, tokens.refresh_token!), client.refreshTokenGrant(config, tokens.refresh_token!)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.error)).toEqual(['invalid_grant']);
    });

    it('a key rotation (here from the CLI, a third process) reaches the JWKS of both processes within the check interval', async () => {
      const jwksOf = async (url: string) => ((await (await fetch(`${url}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      vi.unstubAllGlobals();
      const before = new Set([...(await jwksOf(server().url)), ...(await jwksOf(directUrl()))]);
      const rotated = await runInterim(['admin', 'keys', 'rotate'], { ...server().env!, INTERIM_LOG_LEVEL: 'warn' });
      expect(rotated.code, rotated.stderr).toBe(0);
      for (const url of [server().url, directUrl()]) {
        const kids = await waitForValue(`a new key at ${url}`, async () => {
          const now = await jwksOf(url);
          return now.some((kid) => !before.has(kid)) ? now : undefined;
        }, 15_000);
        expect(kids.length).toBeGreaterThan(before.size / 2);
      }
    });

    it('the live stream on each process hears events committed through the other', async () => {
      vi.unstubAllGlobals();
      const s = await setUpAccess(server());
      const onFirst = await openStream(`${server().url}/api/v1/live`, server().adminToken);
      const onSecond = await openStream(`${directUrl()}/api/v1/live`, server().adminToken);
      try {
        const viaSecond = new ApiClient(directUrl());
        expect((await viaSecond.signIn(s.requester.email, PASSWORD)).status).toBe(200);
        const submitted = await viaSecond.post('/api/v1/access-requests', validRequest(s.templateId));
        expect(submitted.status).toBe(201);
        const event = { type: 'access_request.submitted', request_id: submitted.body.id };
        await waitForValue('the event on both streams', async () => (has(onFirst.events, event) && has(onSecond.events, event) ? true : undefined), 10_000);
        const cancelled = await s.requester.client.post(`/api/v1/access-requests/${submitted.body.id}/cancel`, {});
        expect(cancelled.status).toBe(200);
        const second = { type: 'access_request.cancelled', request_id: submitted.body.id };
        await waitForValue('the cancel on both streams', async () => (has(onFirst.events, second) && has(onSecond.events, second) ? true : undefined), 10_000);
      } finally {
        onFirst.close();
        onSecond.close();
      }
    });
  },
  // Behind a proxy, as processes sharing one public URL are.
  { INTERIM_KEY_CHECK_SECS: '1', INTERIM_TRUST_PROXY: 'true' },
);

const has = (events: object[], event: object) => events.some((e) => JSON.stringify(e) === JSON.stringify(event));

interface Stream {
  events: { type: string; request_id: string | null }[];
  /** The client side's port: which server process holds the stream is found from it. */
  localPort: number;
  close(): void;
}

/** GET /api/v1/live on its own connection (no agent), collecting the events. */
function openStream(url: string, token: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const events: Stream['events'] = [];
    const request = http.get(url, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`live stream answered ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          for (const line of buffer.slice(0, cut).split('\n')) if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
          buffer = buffer.slice(cut + 2);
        }
      });
      res.on('error', () => undefined);
      resolve({ events, localPort: request.socket!.localPort!, close: () => request.destroy() });
    });
    request.on('error', reject);
  });
}

/** Child process ids of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

/** Which of `pids` holds the server side of the loopback TCP connection whose client port is `clientPort`. */
function holderOf(clientPort: number, pids: number[]): number | undefined {
  const hexPort = clientPort.toString(16).toUpperCase().padStart(4, '0');
  const inodes = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2]?.endsWith(`:${hexPort}`))
    .map((f) => f[9]);
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let link = '';
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.some((inode) => link === `socket:[${inode}]`)) return pid;
    }
  }
  return undefined;
}

const LOGIN_LIMIT = 5;

for (const dialect of dialectsUnderTest()) {
  describe(`interim serve with INTERIM_PROCESSES=2 [${dialect}]`, () => {
    let database: TestDatabase;
    let running: RunningInterim;
    let url: string;
    let env: Record<string, string>;
    const adminToken = randomBytes(32).toString('base64url');

    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      const port = await freePort();
      env = instanceEnv(database.target, port, adminToken, {
        INTERIM_HOST: '127.0.0.1',
        INTERIM_PROCESSES: '2',
        INTERIM_RUN_WORKER: 'true',
        INTERIM_LOG_LEVEL: 'warn',
        INTERIM_TRUST_PROXY: 'true',
        INTERIM_LOGIN_MAX_FAILURES: String(LOGIN_LIMIT),
      });
      running = await startInterim(env);
      url = running.url;
    }, 90_000);
    afterAll(async () => {
      await running?.crash();
      await database?.drop();
    });

    const servers = () => childrenOf(running.child.pid!);
    const admin = () => new ApiClient(url).withToken(adminToken);

    it('starts two server processes, bootstraps once and prints one start-up line that says so', async () => {
      expect(servers()).toHaveLength(2);
      expect(running.stderr().match(/Interim is listening/g)).toHaveLength(1);
      expect(running.stderr()).toContain(`, ${dialect}, 2 processes)`);
      expect(running.stderr().match(/First admin created/g)).toHaveLength(1);
      const users = await admin().get('/api/v1/users');
      expect(users.status).toBe(200);
      expect(users.body.items).toHaveLength(1);
      // Concurrent requests open several connections, which the primary hands to both processes in turn.
      const statuses = await Promise.all(Array.from({ length: 20 }, () => admin().get('/api/v1/users').then((r) => r.status)));
      expect(statuses).toEqual(Array(20).fill(200));
    });

    it('live streams held on both processes hear an event committed through either', async () => {
      const fake = { url, admin: admin(), adminToken } as unknown as TestServer;
      const s = await setUpAccess(fake);
      const streams = await Promise.all(Array.from({ length: 4 }, () => openStream(`${url}/api/v1/live`, adminToken)));
      try {
        // The primary deals connections out in turn: the four streams sit on both processes.
        const holders = new Set(streams.map((st) => holderOf(st.localPort, servers())));
        expect(holders.size).toBe(2);
        const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
        expect(submitted.status).toBe(201);
        const event = { type: 'access_request.submitted', request_id: submitted.body.id };
        await waitForValue('the event on every stream', async () => (streams.every((st) => has(st.events, event)) ? true : undefined), 10_000);
      } finally {
        for (const st of streams) st.close();
      }
    });

    it('on a port already in use says so once and exits 2, leaving no process behind', async () => {
      // The same settings as the running instance, so only the port stands in the way.
      const busy = await runInterim(['serve'], env);
      expect(busy.code).toBe(2);
      expect(busy.stderr.match(/cannot listen on 127\.0\.0\.1:\d+: the port is already in use/g)).toHaveLength(1);
      expect(servers()).toHaveLength(2);
    });

    it('counts a burst of wrong passwords, spread over both processes, against one limit', async () => {
      const person = await createPerson({ url, admin: admin() } as unknown as TestServer, 'cluster-throttle');
      // Concurrent requests go out on separate connections, which the primary deals to both processes.
      const attempts = await Promise.all(
        Array.from({ length: 16 }, () => new ApiClient(url).request('POST', '/api/v1/session', { email: person.email, password: 'not the password at all' }, { 'x-forwarded-for': '198.51.100.77' })),
      );
      const statuses = attempts.map((r) => r.status);
      expect(statuses.filter((st) => st === 401)).toHaveLength(LOGIN_LIMIT);
      expect(statuses.filter((st) => st === 429)).toHaveLength(16 - LOGIN_LIMIT);
      expect((await new ApiClient(url).signIn(person.email, PASSWORD)).status).toBe(429);
    });

    it('restarts a server process that was killed, and stops them all on SIGTERM', async () => {
      const [victim, survivor] = servers() as [number, number];
      process.kill(victim, 'SIGKILL');
      const replaced = await waitForValue('a replacement process', async () => {
        const now = servers();
        return now.length === 2 && !now.includes(victim) ? now : undefined;
      });
      expect(replaced).toContain(survivor);
      expect(running.stderr()).toMatch(new RegExp(`server process ${victim} \\(slot \\d\\) exited \\(SIGKILL\\); starting another`));
      await waitForValue('the new process serving', async () => {
        const statuses = await Promise.all(Array.from({ length: 6 }, () => admin().get('/api/v1/users').then((r) => r.status)));
        return statuses.every((st) => st === 200) ? true : undefined;
      });
      // Only one start-up line and one bootstrap, however many processes came and went.
      expect(running.stderr().match(/Interim is listening/g)).toHaveLength(1);

      const all = servers();
      expect(await running.stop()).toBe(0);
      for (const pid of all) expect(() => process.kill(pid, 0)).toThrow();
    });
  });
}
