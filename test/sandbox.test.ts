import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture, secretRedactor } from '../src/sandbox/log-capture.ts';
import { createSandboxPool, type Sandbox, type SandboxSettings } from '../src/sandbox/pool.ts';
import { GUEST_LIMITS, type GuestJob } from '../src/sandbox/protocol.ts';

const clock = { now: () => Date.now() };
const settings = (over: Partial<SandboxSettings> = {}): SandboxSettings => ({
  workers: 2,
  memoryMb: 16,
  timeoutMs: 1000,
  outbound: { allowPrivate: true, timeoutMs: 2000, maxResponseBytes: 64 * 1024 },
  ...over,
});
const job = (source: string, over: Partial<GuestJob> = {}): GuestJob => ({ source, config: {}, secrets: {}, allowedHosts: [], ...over });
const messages = (logs: { message: string }[]) => logs.map((l) => l.message);

describe('LogCapture', () => {
  it('keeps lines until the entry cap, then counts the rest in one marker', () => {
    const logs = new LogCapture();
    for (let i = 0; i < GUEST_LIMITS.logEntries + 7; i++) logs.add('info', `line ${i}`, i);
    const out = logs.finish(999);
    expect(out).toHaveLength(GUEST_LIMITS.logEntries + 1);
    expect(out.at(-1)).toMatchObject({ level: 'warn', offsetMs: 999 });
    expect(out.at(-1)!.message).toMatch(/7 more entries were dropped/);
  });

  it('cuts the line that crosses the byte cap without splitting a character', () => {
    const logs = new LogCapture();
    logs.add('info', 'é'.repeat(GUEST_LIMITS.logBytes), 0);
    const out = logs.finish(1);
    expect(Buffer.byteLength(out[0]!.message)).toBeLessThanOrEqual(GUEST_LIMITS.logBytes + 3);
    expect(out[0]!.message).not.toContain('\uFFFD');
    expect(out[1]!.message).toMatch(/the last line was cut/);
  });

  it('redacts secret values, longest first, and leaves short ones alone', () => {
    const redact = secretRedactor(['hunter22', 'hunter22-extended', 'ab']);
    expect(redact('a hunter22-extended and hunter22, ab')).toBe('a [redacted] and [redacted], ab');
  });
});

describe('sandbox pool', () => {
  let pool: Sandbox;
  let receiver: Server;
  let receiverUrl: string;
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    pool = createSandboxPool(settings(), clock);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (req.url === '/big') return res.writeHead(200).end('x'.repeat(100 * 1024));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path: req.url }));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await pool.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('gives the guest config, secrets and logs, with top-level await', async () => {
    const run = await pool.run(
      job(
        `const who = config.get('requester_email');
         await null;
         log.info('hello', who, { n: 1 }, [1, 2], null, undefined, 3);
         log.warn('token is', secrets.get('API_TOKEN'));
         log.error(new TypeError('shown as name and message'));
         log.info(typeof config.get('missing'), typeof secrets.get('OTHER'), config.get('__proto__'), config.get('constructor'));`,
        { config: { requester_email: 'ada@example.com' }, secrets: { API_TOKEN: 'tok-123456' } },
      ),
    );
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(run.logs.map((l) => [l.level, l.message])).toEqual([
      ['info', 'hello ada@example.com {"n":1} [1,2] null undefined 3'],
      ['warn', 'token is [redacted]'],
      ['error', 'TypeError: shown as name and message'],
      ['info', 'undefined undefined undefined undefined'],
    ]);
    expect(run.logs[0]!.at).toBeGreaterThanOrEqual(run.startedAt);
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('fails with the message of a throw, a rejection or a syntax error', async () => {
    const cases: [string, RegExp][] = [
      [`throw new Error('provisioning refused')`, /^Error: provisioning refused$/],
      [`await Promise.reject(new RangeError('nope'))`, /^RangeError: nope$/],
      [`throw 'a plain string'`, /^a plain string$/],
      [`throw 42`, /threw 42/],
      [`this is not javascript`, /^SyntaxError/],
      [`await new Promise(() => {})`, /nothing will ever settle/],
      [`(function f() { f(); })()`, /stack overflow/i],
    ];
    for (const [source, error] of cases) {
      const run = await pool.run(job(source));
      expect(run.status, source).toBe('failed');
      expect(run.error, source).toMatch(error);
    }
  });

  it('has no host objects: no process, require, import, timers, std or os', async () => {
    const run = await pool.run(
      job(`log.info([typeof process, typeof require, typeof module, typeof std, typeof os, typeof setTimeout, typeof fetch, typeof console, typeof WebAssembly, typeof Atomics].join(','));
           log.info(Object.getOwnPropertyNames(globalThis).filter((n) => !/^[A-Z]/.test(n)).sort().join(','));
           log.info(Function('return this')() === globalThis, typeof Function('return this')().process);`),
    );
    expect(run.status).toBe('succeeded');
    expect(messages(run.logs)[0]).toBe(Array(10).fill('undefined').join(','));
    // Only the language's own lowercase globals plus the four we define.
    expect(messages(run.logs)[1]!.split(',')).toEqual(
      expect.arrayContaining(['config', 'http', 'log', 'secrets']),
    );
    expect(messages(run.logs)[1]!.split(',').filter((n) => !['config', 'http', 'log', 'secrets'].includes(n))).toEqual(
      ['decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'eval', 'globalThis', 'isFinite', 'isNaN', 'parseFloat', 'parseInt', 'undefined', 'unescape'],
    );
    expect(messages(run.logs)[2]).toBe('true undefined');

    const imported = await pool.run(job(`await import('os')`));
    expect(imported.status).toBe('failed');
    expect(imported.error).toMatch(/could not load module/);
  });

  it('contains constructor and prototype escapes inside the guest', async () => {
    const escapes = [
      `return this.constructor.constructor('return process')()`,
      `return log.info.constructor('return process')()`,
      `return http.fetch.constructor.constructor('return require')()`,
      `return Object.getPrototypeOf(async function () {}).constructor('return process')().then((p) => p.mainModule)`,
      `return (() => {}).constructor('return globalThis.process.binding')()`,
    ];
    for (const source of escapes) {
      const run = await pool.run(job(source));
      expect(run.status, source).toBe('failed');
      expect(run.error, source).toMatch(/ReferenceError: '?(process|require)'? is not defined|TypeError/);
    }
    // Tampering with shared prototypes or our API stays inside this run.
    const tamper = await pool.run(
      job(`Object.prototype.polluted = 'yes'; Array.prototype.map = null;
           try { log.info = null } catch (e) { log.warn('log is frozen') }
           try { globalThis.config = { get: () => 'forged' } } catch (e) { log.warn('config is fixed') }
           log.info(config.get('k'), 'x', [1]);`, { config: { k: 'real' } }),
    );
    expect(tamper.status).toBe('succeeded');
    expect(messages(tamper.logs)).toContain('real x [1]');
    const next = await pool.run(job(`log.info(typeof ({}).polluted, typeof [].map)`));
    expect(messages(next.logs)).toEqual(['undefined function']);
  });

  it('times out a CPU loop at the limit, and keeps serving', async () => {
    const t0 = performance.now();
    const run = await pool.run(job(`log.info('spinning'); while (true) {}`));
    const took = performance.now() - t0;
    expect(run.status).toBe('timed_out');
    expect(run.error).toMatch(/time limit of 1000 ms/);
    expect(messages(run.logs)).toEqual(['spinning']);
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(6000);
    expect((await pool.run(job(`log.info('still here')`))).status).toBe('succeeded');
  });

  it('terminates a worker stuck where the interpreter cannot interrupt, and replaces it', async () => {
    const stuck = createSandboxPool(settings({ workers: 1, memoryMb: 256, timeoutMs: 300 }), clock);
    try {
      // One long native call (filling and serialising a 4M-element array takes seconds).
      const t0 = performance.now();
      const run = await stuck.run(job(`JSON.stringify(new Array(1 << 22).fill(1.5))`));
      expect(run.status).toBe('timed_out');
      expect(run.error).toMatch(/worker was terminated/);
      expect(performance.now() - t0).toBeLessThan(5000);
      const after = await stuck.run(job(`log.info('a new worker')`));
      expect(after.status).toBe('succeeded');
      expect(messages(after.logs)).toEqual(['a new worker']);
    } finally {
      await stuck.close();
    }
  });

  it('fails a memory bomb with a memory error', async () => {
    const bombs = [
      `const keep = []; while (true) keep.push(new Array(100000).fill(keep.length))`,
      `let n = 1 << 16; const keep = []; while (true) { keep.push('x'.repeat(n)); n *= 2; }`,
      `let s = 'ab'; const keep = []; while (true) { s = s + s; keep.push(s.split('').join('')); }`,
      `const keep = []; while (true) keep.push(new Uint8Array(1 << 20))`,
      `const keep = []; while (true) keep.push({ n: keep.length, s: 'y' + keep.length })`,
    ];
    // A generous time limit: on a busy machine a slow bomb must still meet the memory cap first.
    const roomy = createSandboxPool(settings({ timeoutMs: 20_000 }), clock);
    try {
      for (const source of bombs) {
        const run = await roomy.run(job(source));
        expect(run.status, source).toBe('failed');
        expect(run.error, source).toMatch(/out of memory|memory limit/);
      }
    } finally {
      await roomy.close();
    }
    expect((await pool.run(job(`log.info('fine')`))).status).toBe('succeeded');
  });

  it('truncates huge log output with a marker', async () => {
    const many = await pool.run(job(`for (let i = 0; i < 5000; i++) log.info('line', i)`));
    expect(many.status).toBe('succeeded');
    expect(many.logs).toHaveLength(GUEST_LIMITS.logEntries + 1);
    expect(many.logs.at(-1)!.message).toMatch(/4500 more entries were dropped/);
    const big = await pool.run(job(`log.info('z'.repeat(1 << 20)); log.info('after')`));
    expect(big.logs).toHaveLength(2);
    expect(big.logs[0]!.message.length).toBeLessThanOrEqual(GUEST_LIMITS.logBytes + 1);
    expect(big.logs[1]!.message).toMatch(/the last line was cut and 1 more entries were dropped/);
  });

  it('fetches from allowed hosts and refuses the rest', async () => {
    const ok = await pool.run(
      job(
        `const res = await http.fetch('${receiverUrl}/provision?user=' + encodeURIComponent(config.get('email')), {
           method: 'POST', headers: { authorization: 'Bearer ' + secrets.get('TOKEN'), 'content-type': 'application/json' },
           body: JSON.stringify({ email: config.get('email') }),
         });
         log.info(res.status, res.headers['content-type'], JSON.parse(res.body).ok);`,
        { config: { email: 'ada@example.com' }, secrets: { TOKEN: 's3cr3t-token' }, allowedHosts: ['127.0.0.1'] },
      ),
    );
    expect(ok.error).toBeNull();
    expect(messages(ok.logs)).toEqual(['200 application/json true']);
    expect(received.at(-1)).toMatchObject({ path: '/provision?user=ada%40example.com', body: '{"email":"ada@example.com"}' });
    expect(received.at(-1)!.headers.authorization).toBe('Bearer s3cr3t-token');

    const before = received.length;
    const refused = await pool.run(job(`await http.fetch('${receiverUrl.replace('127.0.0.1', 'localhost')}/x')`, { allowedHosts: ['127.0.0.1'] }));
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(/OutboundBlocked: the host localhost is not on the allowlist/);
    const caught = await pool.run(
      job(`try { await http.fetch('https://elsewhere.example/') } catch (e) { log.warn(e.name, e.message); }`, { allowedHosts: ['127.0.0.1'] }),
    );
    expect(caught.status).toBe('succeeded');
    expect(messages(caught.logs)).toEqual(['OutboundBlocked the host elsewhere.example is not on the allowlist']);
    expect(received.length).toBe(before);
  });

  it('caps responses, checks fetch arguments and counts fetches', async () => {
    const big = await pool.run(job(`await http.fetch('${receiverUrl}/big')`, { allowedHosts: ['127.0.0.1'] }));
    expect(big.error).toMatch(/OutboundFailed: the response from .* is larger than 65536 bytes/);
    const badBody = await pool.run(job(`await http.fetch('${receiverUrl}/', { method: 'POST', body: { not: 'a string' } })`, { allowedHosts: ['127.0.0.1'] }));
    expect(badBody.error).toMatch(/TypeError: body must be a string/);
    const badHeaders = await pool.run(job(`await http.fetch('${receiverUrl}/', { headers: { n: 1 } })`, { allowedHosts: ['127.0.0.1'] }));
    expect(badHeaders.error).toMatch(/TypeError: headers must be an object whose values are strings/);
    const many = await pool.run(
      job(`for (let i = 0; i < ${GUEST_LIMITS.fetchesPerRun + 1}; i++) await http.fetch('${receiverUrl}/n' + i)`, { allowedHosts: ['127.0.0.1'] }),
    );
    expect(many.error).toMatch(/too many http.fetch calls/);
  });

  it('refuses private addresses when private hosts are not allowed, even if allowlisted', async () => {
    const strict = createSandboxPool(settings({ workers: 1, outbound: { allowPrivate: false, timeoutMs: 2000, maxResponseBytes: 65536 } }), clock);
    try {
      const before = received.length;
      const https = await strict.run(job(`await http.fetch('${receiverUrl.replace('http:', 'https:')}/x')`, { allowedHosts: ['127.0.0.1'] }));
      expect(https.error).toMatch(/OutboundBlocked: 127\.0\.0\.1 resolves to a non-public address/);
      const metadata = await strict.run(job(`await http.fetch('https://169.254.169.254/latest/meta-data/')`, { allowedHosts: ['169.254.169.254'] }));
      expect(metadata.error).toMatch(/non-public address \(169\.254\.169\.254, link_local\)/);
      const plain = await strict.run(job(`await http.fetch('${receiverUrl}/x')`, { allowedHosts: ['127.0.0.1'] }));
      expect(plain.error).toMatch(/only https URLs are allowed/);
      expect(received.length).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it('runs several scripts at once on its workers', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run(job(`log.info(config.get('i'))`, { config: { i: String(i) } }))));
    expect(runs.map((r) => messages(r.logs)[0])).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('calls onStart when a worker takes the run, not when it is queued', async () => {
    const single = createSandboxPool(settings({ workers: 1 }), clock);
    try {
      const started: string[] = [];
      // The first run keeps the only worker busy for a while; the second waits behind it.
      const busy = single.run(job(`const until = Date.now() + 500; while (Date.now() < until) {}`), { onStart: () => started.push('busy') });
      const queuedAt = Date.now();
      let queuedStart = 0;
      const queued = single.run(job(''), {
        onStart: (at) => {
          started.push('queued');
          queuedStart = at;
        },
      });
      while (started.length === 0) await new Promise((resolve) => setTimeout(resolve, 10)); // the worker starts up
      const busySince = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100)); // the busy run is still going
      expect(started).toEqual(['busy']);
      const busyRun = await busy;
      expect((await queued).status).toBe('succeeded');
      expect(started).toEqual(['busy', 'queued']);
      expect(queuedStart).toBeGreaterThanOrEqual(busyRun.startedAt + busyRun.durationMs - 5);
      expect(queuedStart - Math.max(queuedAt, busySince)).toBeGreaterThanOrEqual(300);
      // A throwing callback does not break the pool.
      expect((await single.run(job(''), { onStart: () => { throw new Error('bookkeeping failed'); } })).status).toBe('succeeded');
    } finally {
      await single.close();
    }
  });

  it('rejects runs once closed', async () => {
    const temporary = createSandboxPool(settings({ workers: 1 }), clock);
    expect((await temporary.run(job(''))).status).toBe('succeeded');
    await temporary.close();
    await expect(temporary.run(job(''))).rejects.toThrow(/closed/);
  });
});
