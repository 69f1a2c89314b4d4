import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.ts';
import { isDatabaseUnavailable } from '../src/db/unavailable.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { Browser } from './helpers/oidc-browser.ts';
import type { AppFixture } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import { freePort, startPostgresCluster, type ControllableCluster } from './helpers/postgres-cluster.ts';
import { startInterim, type RunningInterim } from './helpers/interim-process.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PASSWORD = 'a long enough password';

describe('telling a database outage from a bug, on real driver errors', () => {
  for (const dialect of dialectsUnderTest()) {
    if (dialect === 'postgres') {
      it('[postgres] a refused connection and a statement timeout are outages; a bad query is not', async () => {
        const refused = openDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, timeouts: { connectMs: 1000, statementMs: 1000 } });
        const refusal = await sql`select 1`.execute(refused.db).catch((e: unknown) => e);
        await refused.close();
        expect(isDatabaseUnavailable(refusal)).toBe(true);

        const database = await createTestDatabase('postgres');
        if (database.target.kind !== 'postgres') throw new Error('expected postgres');
        const real = openDatabase({ ...database.target, timeouts: { connectMs: 1000, statementMs: 300 } });
        try {
          const started = Date.now();
          const slow = await sql`select pg_sleep(5)`.execute(real.db).catch((e: unknown) => e);
          expect(Date.now() - started).toBeLessThan(2000);
          expect(isDatabaseUnavailable(slow)).toBe(true);
          const bug = await sql`select * from no_such_table`.execute(real.db).catch((e: unknown) => e);
          expect(bug).toBeInstanceOf(Error);
          expect(isDatabaseUnavailable(bug)).toBe(false);
          // The pool is healthy after both.
          expect((await sql<{ one: number }>`select 1 as one`.execute(real.db)).rows).toEqual([{ one: 1 }]);
        } finally {
          await real.close();
          await database.drop();
        }
      });
    } else {
      it('[sqlite] a write lock held too long is an outage; a bad query is not', async () => {
        const database = await createTestDatabase('sqlite');
        if (database.target.kind !== 'sqlite') throw new Error('expected sqlite');
        const holder = new SQLite(database.target.file);
        const writer = new SQLite(database.target.file, { timeout: 0 });
        try {
          holder.exec('create table t (x integer); begin immediate; insert into t values (1)');
          let busy: unknown;
          try {
            writer.exec('insert into t values (2)');
          } catch (e) {
            busy = e;
          }
          expect(isDatabaseUnavailable(busy)).toBe(true);
          let bug: unknown;
          try {
            writer.exec('select * from no_such_table');
          } catch (e) {
            bug = e;
          }
          expect(bug).toBeInstanceOf(Error);
          expect(isDatabaseUnavailable(bug)).toBe(false);
        } finally {
          holder.close();
          writer.close();
          await database.drop();
        }
      });
    }
  }
});

if (dialectsUnderTest().includes('sqlite')) {
  describe('SQLite locked by another process [sqlite]', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('sqlite');
    });
    afterAll(() => server.close());

    it('answers a write 503 problem+json once busy_timeout runs out, and serves again when the lock is gone', async () => {
      if (server.app.database.dialect !== 'sqlite') throw new Error('expected sqlite');
      const file = server.config.database.kind === 'sqlite' ? server.config.database.file : '';
      const other = new SQLite(file);
      try {
        other.exec('begin immediate');
        const blocked = await server.admin.post('/api/v1/groups', { name: 'blocked' });
        expect(blocked.status).toBe(503);
        expect(blocked.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(blocked.headers.get('retry-after')).toBe('2');
        expect(blocked.body).toMatchObject({ status: 503, code: 'database_unavailable', title: 'Service Unavailable' });
      } finally {
        other.exec('rollback');
        other.close();
      }
      expect((await server.admin.post('/api/v1/groups', { name: 'after' })).status).toBe(201);
    }, 20_000);

    it('still refuses an unauthenticated caller with 401, not 503', async () => {
      const res = await new ApiClient(server.url).post('/api/v1/groups', { name: 'nobody' });
      expect(res.status).toBe(401);
    });
  });
}

/** What one request of the load saw. */
interface Outcome {
  what: 'refresh' | 'submit' | 'cancel' | 'list';
  at: number;
  ms: number;
  status: number;
  type: string;
  body: Record<string, unknown>;
}

/** Starts `interim serve` as a real separate process and waits until it is ready. */
if (dialectsUnderTest().includes('postgres')) {
  describe('PostgreSQL restarted, stopped and frozen under load [postgres]', () => {
    let cluster: ControllableCluster;
    let server: RunningInterim | undefined;
    beforeAll(async () => {
      // A cluster of its own: the run's shared one must not go away under other files.
      cluster = await startPostgresCluster({ durable: true });
    });
    afterAll(() => {
      void server?.crash();
      cluster.thaw();
      cluster.stop();
    });

    it('keeps the process alive, fails fast and well-formed, recovers within 5 s, and loses nothing acknowledged', async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const adminToken = randomBytes(32).toString('base64url');
      const env: Record<string, string> = {
        INTERIM_HOST: '127.0.0.1',
        INTERIM_PORT: String(port),
        INTERIM_BASE_URL: base,
        DATABASE_URL: cluster.url,
        INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
        INTERIM_ADMIN_EMAIL: 'admin@example.test',
        INTERIM_ADMIN_PASSWORD: PASSWORD,
        INTERIM_BOOTSTRAP_TOKEN: adminToken,
        INTERIM_LOG_LEVEL: 'warn',
        INTERIM_RUN_WORKER: 'true',
        INTERIM_WORKER_INTERVAL_MS: '500',
        INTERIM_REQUESTS_PER_MINUTE: '100000',
        INTERIM_DB_CONNECT_TIMEOUT_MS: '1000',
        INTERIM_DB_STATEMENT_TIMEOUT_MS: '1000',
        INTERIM_PASSWORD_SCRYPT_N: '1024',
      };
      server = await startInterim(env);
      const admin = new ApiClient(base).withToken(adminToken);

      // An application with refresh tokens, and eight refresh chains of one user.
      const created = await admin.post('/api/v1/applications', { name: 'outage', redirect_uris: ['http://127.0.0.1:9/callback'], first_party: true });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const app: AppFixture = { id: created.body.id, secret: created.body.client_secret, redirectUri: 'http://127.0.0.1:9/callback' };
      expect((await admin.post('/api/v1/users', { email: 'chains@example.test', name: 'Chains', password: PASSWORD, must_change_password: false })).status).toBe(201);
      const rp = await relyingParty({ url: base } as TestServer, app);
      const browser = new Browser(base);
      const chains: { token: string; rotations: number }[] = [];
      let accessToken = '';
      for (let i = 0; i < 8; i++) {
        const { tokens } = await codeFlow(rp, browser, app, { email: 'chains@example.test', password: PASSWORD });
        chains.push({ token: tokens.refresh_token!, rotations: 0 });
        accessToken = tokens.access_token;
      }

      // Requesters who submit and withdraw access requests in a loop.
      const holders = await admin.post('/api/v1/groups', { name: 'holders' });
      const mapping = await admin.post('/api/v1/mappings', { app_id: app.id, claim: 'role', value: 'x', group_ids: [holders.body.id] });
      const template = await admin.post('/api/v1/access-request-templates', {
        name: 'outage',
        app_id: app.id,
        mapping_ids: [mapping.body.id],
        allowed_durations: [60],
        require_justification: false,
        approval: 'open',
      });
      expect(template.status, JSON.stringify(template.body)).toBe(201);
      const requesters: ApiClient[] = [];
      for (let i = 0; i < 4; i++) {
        expect((await admin.post('/api/v1/users', { email: `req${i}@example.test`, name: `R${i}`, password: PASSWORD, must_change_password: false })).status).toBe(201);
        const requester = new ApiClient(base);
        expect((await requester.signIn(`req${i}@example.test`, PASSWORD)).status).toBe(200);
        requesters.push(requester);
      }

      const outcomes: Outcome[] = [];
      const record = async (what: Outcome['what'], call: () => Promise<{ status: number; type: string; body: unknown }>): Promise<Outcome> => {
        const at = Date.now();
        const answer = await call().catch((error: unknown) => ({ status: 0, type: '', body: { network: String(error) } }));
        const outcome = { what, at, ms: Date.now() - at, status: answer.status, type: answer.type, body: (answer.body ?? {}) as Record<string, unknown> };
        outcomes.push(outcome);
        return outcome;
      };
      const api = (client: ApiClient, method: string, path: string, body?: unknown) => async () => {
        const res = await client.request(method, path, body);
        return { status: res.status, type: res.headers.get('content-type') ?? '', body: res.body };
      };
      const refreshCall = (token: string) => async () => {
        const res = await fetch(`${base}/oidc/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
        });
        return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
      };

      let stopped = false;
      let tokensPaused = false;
      const acknowledged = new Map<string, 'pending' | 'cancelled'>();
      const tokenLoop = async (chain: (typeof chains)[number]) => {
        while (!stopped) {
          if (tokensPaused) {
            await sleep(50);
            continue;
          }
          const o = await record('refresh', refreshCall(chain.token));
          if (o.status === 200) {
            chain.token = o.body.refresh_token as string;
            chain.rotations++;
          } else await sleep(100);
        }
      };
      const withdraw = async (requester: ApiClient, id: string) => {
        while (!stopped) {
          const o = await record('cancel', api(requester, 'POST', `/api/v1/access-requests/${id}/cancel`, {}));
          if (o.status === 200) acknowledged.set(id, 'cancelled');
          if (o.status === 200 || o.status === 409) return;
          await sleep(100);
        }
      };
      const submitLoop = async (requester: ApiClient) => {
        while (!stopped) {
          const o = await record('submit', api(requester, 'POST', '/api/v1/access-requests', { template_id: template.body.id, duration_mins: 60 }));
          if (o.status === 201) {
            acknowledged.set(o.body.id as string, 'pending');
            await withdraw(requester, o.body.id as string);
          } else if (o.status === 409) {
            // A submission answered 503 may still have committed: withdraw what is open.
            const open = await record('list', api(requester, 'GET', '/api/v1/access-requests?status=pending'));
            for (const r of (open.body.items as { id: string }[] | undefined) ?? []) await withdraw(requester, r.id);
          } else await sleep(100);
        }
      };
      const readyz = async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status ?? 0;
      /** Time from `since` until /readyz and a request of the load both succeed. */
      const recovery = async (since: number) => {
        while ((await readyz()) !== 200) {
          if (server!.child.exitCode !== null) throw new Error(`the server process died:\n${server!.stderr()}`);
          if (Date.now() - since > 15_000) throw new Error('no recovery within 15 s');
          await sleep(50);
        }
        const ready = Date.now();
        while (!outcomes.some((o) => o.at >= since && o.status >= 200 && o.status < 300)) await sleep(20);
        const served = Math.min(...outcomes.filter((o) => o.at >= since && o.status >= 200 && o.status < 300).map((o) => o.at + o.ms));
        return Math.max(ready, served) - since;
      };

      const load = [...chains.map(tokenLoop), ...requesters.map(submitLoop)];
      const phases: Record<string, number> = {};
      try {
        await sleep(1000);

        // 1. A restart (fast shutdown: sessions are terminated, then the server comes back).
        await cluster.restart('fast');
        phases.restart = await recovery(Date.now());
        await sleep(1000);

        // 2. A stop: connections refused; /readyz says so, quickly.
        await cluster.stopServer('immediate');
        const down = Date.now();
        const probes: { status: number; ms: number }[] = [];
        while (Date.now() - down < 1500) {
          const at = Date.now();
          probes.push({ status: await readyz(), ms: Date.now() - at });
          await sleep(100);
        }
        // A probe that finds the pool busy with the load's refused connects waits for a slot,
        // at most INTERIM_DB_CONNECT_TIMEOUT_MS (1 s); the rest is margin for a loaded machine.
        expect(probes.every((p) => p.status === 503 && p.ms < 2000), JSON.stringify(probes)).toBe(true);
        // Other paths while it is down: liveness stays up; the provider (userinfo) and our
        // own hooks in front of it (a portal session cookie on /oidc) answer in the OAuth
        // format; the API in problem+json.
        const answer = async (path: string, headers: Record<string, string>) => {
          const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
          return { status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), body: await res.json() };
        };
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const oauthUnavailable = { status: 503, type: expect.stringMatching(/^application\/json/), retryAfter: '2', body: { error: 'temporarily_unavailable', error_description: expect.any(String) } };
        expect(await answer('/oidc/me', { authorization: `Bearer ${accessToken}`, accept: 'application/json' })).toEqual(oauthUnavailable);
        expect(await answer(`/oidc/auth?client_id=${app.id}`, { cookie: requesters[0]!.cookieHeader, accept: 'application/json' })).toEqual(oauthUnavailable);
        expect(await answer('/api/v1/groups', { authorization: `Bearer ${adminToken}` })).toMatchObject({
          status: 503,
          type: expect.stringMatching(/^application\/problem\+json/),
          retryAfter: '2',
          body: { status: 503, code: 'database_unavailable' },
        });
        await cluster.startServer();
        phases.stop = await recovery(Date.now());
        await sleep(1000);

        // 3. A server that stops answering without refusing: the timeouts answer for it.
        // Token load pauses first: a rotation statement already on its way when the server
        // froze may still commit after the client was told 503, and its retry is then reuse
        // (docs/oidc.md). Refreshes sent once it is frozen must fail cleanly.
        tokensPaused = true;
        await sleep(300);
        cluster.freeze();
        const frozen = Date.now();
        const frozenAnswers = await Promise.all(chains.map((chain) => record('refresh', refreshCall(chain.token))));
        const frozenReady = Date.now();
        const frozenReadyz = await readyz();
        const frozenReadyzMs = Date.now() - frozenReady;
        await sleep(Math.max(0, 4000 - (Date.now() - frozen)));
        cluster.thaw();
        phases.freeze = await recovery(Date.now());
        tokensPaused = false;
        expect(frozenAnswers.every((o) => o.status === 503 && o.ms < 5000), JSON.stringify(frozenAnswers.map((o) => [o.status, o.ms]))).toBe(true);
        expect(frozenReadyz).toBe(503);
        expect(frozenReadyzMs).toBeLessThan(5000);
        await sleep(1000);
      } finally {
        stopped = true;
        cluster.thaw();
        await Promise.all(load);
      }

      // The process lived through all of it.
      expect(server.child.exitCode, server.stderr()).toBeNull();
      expect(server.child.signalCode).toBeNull();
      expect(server.stderr()).not.toMatch(/Unhandled 'error' event|uncaught/i);

      // Recovery within 5 s of PostgreSQL accepting connections again.
      expect(phases.restart).toBeLessThan(5000);
      expect(phases.stop).toBeLessThan(5000);
      expect(phases.freeze).toBeLessThan(5000);

      // Every failure was a well-formed 503, and fast; the load really met the outage.
      const failures = outcomes.filter((o) => o.status >= 300 && !(o.what === 'submit' && o.status === 409) && !(o.what === 'cancel' && o.status === 409));
      for (const o of failures) {
        expect(o.status, JSON.stringify(o)).toBe(503);
        if (o.what === 'refresh') {
          expect(o.type).toMatch(/^application\/json/);
          expect(o.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        } else {
          expect(o.type).toMatch(/^application\/problem\+json/);
          expect(o.body).toMatchObject({ status: 503, code: 'database_unavailable' });
        }
        expect(o.ms, JSON.stringify(o)).toBeLessThan(5000);
      }
      expect(failures.filter((o) => o.what === 'refresh').length).toBeGreaterThan(0);
      expect(failures.filter((o) => o.what !== 'refresh').length).toBeGreaterThan(0);
      // 409s only where an earlier 503 had committed after all: the open request, or its withdrawal.
      for (const o of outcomes.filter((o) => o.what === 'submit' && o.status === 409)) expect(o.body.code).toBe('request_already_open');

      // Every acknowledged write is there; every chain still refreshes (none was revoked as reuse).
      expect(acknowledged.size).toBeGreaterThan(0);
      for (const [id, state] of acknowledged) {
        const stored = await admin.get(`/api/v1/access-requests/${id}`);
        expect(stored.status).toBe(200);
        if (state === 'cancelled') expect(stored.body.status).toBe('cancelled');
      }
      for (const chain of chains) {
        expect(chain.rotations).toBeGreaterThan(0);
        const next = await refreshCall(chain.token)();
        expect(next.status, JSON.stringify(next.body)).toBe(200);
      }

      // The audit chain verifies, with the real CLI.
      const verify = spawnSync(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'admin', 'audit', 'verify'], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/audit chain intact/);
    }, 60_000);
  });
}
