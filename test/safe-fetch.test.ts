import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type * as DnsPromises from 'node:dns/promises';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { classifyAddress, type AddressClass } from '../src/net/address-policy.ts';
import { normalizeHostName } from '../src/net/host-names.ts';
import { OutboundBlocked, OutboundFailed, safeFetch, type OutboundPolicy } from '../src/net/safe-fetch.ts';

// Names this file controls: what "DNS" answers for them, so rebinding and mixed answers can be staged.
const fakeDns = vi.hoisted(() => new Map<string, { address: string; family: number }[]>());
vi.mock('node:dns/promises', async (importOriginal) => {
  const real = await importOriginal<typeof DnsPromises>();
  const lookup = async (host: string, options: object) => {
    const answers = fakeDns.get(host);
    if (!answers) return real.lookup(host, options as { all: true });
    // A rebinding resolver: the first answer is the one checked; any later lookup points elsewhere.
    fakeDns.set(host, [{ address: '203.0.113.66', family: 4 }]);
    return answers;
  };
  return { ...real, default: { ...real, lookup }, lookup };
});

describe('classifyAddress', () => {
  const table: [string, AddressClass][] = [
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['93.184.216.34', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.63.255.255', 'public'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.0', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link_local'],
    ['172.15.255.255', 'public'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['192.168.1.1', 'private'],
    ['192.169.0.1', 'public'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'reserved'],
    ['::ffff:0:8.8.8.8', 'reserved'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b:1::1', 'private'],
    ['100::1', 'reserved'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:808:808::1', 'public'],
    ['3fff::1', 'documentation'],
    ['fc00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['ff05::2', 'multicast'],
    ['4000::1', 'reserved'],
    ['1000::1', 'reserved'],
    ['localhost', 'invalid'],
    ['example.com', 'invalid'],
    ['127.1', 'invalid'],
    ['', 'invalid'],
  ];
  it.each(table)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('normalizeHostName', () => {
  const table: [string, string | null][] = [
    ['api.example.com', 'api.example.com'],
    ['API.Example.COM', 'api.example.com'],
    ['  hooks.slack.com ', 'hooks.slack.com'],
    ['localhost', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['https://api.example.com', null],
    ['api.example.com:443', null],
    ['api.example.com/path', null],
    ['user@api.example.com', null],
    ['*.example.com', null],
    ['-bad.example.com', null],
    ['bad-.example.com', null],
    ['example.com.', null],
    ['a..b', null],
    ['bücher.example', null],
    ['1.2.3', null],
    ['', null],
    ['a'.repeat(64) + '.com', null],
  ];
  it.each(table)('%j → %j', (input, expected) => {
    expect(normalizeHostName(input)).toBe(expected);
  });
});

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('safeFetch against a loopback server', () => {
  let server: Server;
  let port: number;
  const seen: Seen[] = [];
  const open = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
        if (req.url === '/big-declared') return res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) }).end(Buffer.alloc(2 * 1024 * 1024, 'a'));
        if (req.url === '/big-chunked') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const chunk = Buffer.alloc(64 * 1024, 'b');
          let sent = 0;
          const pump = () => {
            while (sent < 40 && res.write(chunk)) sent++;
            if (sent < 40) res.once('drain', pump);
            else res.end();
          };
          return pump();
        }
        if (req.url === '/hang') return; // never answers
        if (req.url === '/slow-body') {
          res.writeHead(200);
          res.write('partial');
          return; // the body never ends
        }
        res.writeHead(201, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] }).end(JSON.stringify({ echoed: req.method }));
      });
    });
    server.on('connection', (socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const policy = (over: Partial<OutboundPolicy> = {}): OutboundPolicy => ({ allowPrivate: true, timeoutMs: 2000, maxResponseBytes: 1024 * 1024, ...over });
  const hitsOf = (path: string) => seen.filter((s) => s.path === path).length;

  async function refusal(promise: Promise<unknown>) {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, 'expected the request to be refused').toBeInstanceOf(Error);
    return error as OutboundBlocked | OutboundFailed;
  }

  it('refuses loopback without allowPrivate, before connecting', async () => {
    const before = seen.length;
    for (const url of [`https://127.0.0.1:${port}/ok`, `https://localhost:${port}/ok`, `https://[::ffff:127.0.0.1]:${port}/ok`, `https://0x7f.1:${port}/ok`]) {
      const error = await refusal(safeFetch(url, {}, policy({ allowPrivate: false })));
      expect(error).toBeInstanceOf(OutboundBlocked);
      expect(error.reason).toBe('non_public_address');
    }
    // Plain http is refused outright without allowPrivate.
    const http = await refusal(safeFetch(`http://127.0.0.1:${port}/ok`, {}, policy({ allowPrivate: false })));
    expect(http.reason).toBe('scheme_not_allowed');
    expect(seen.length).toBe(before);
  });

  it('refuses other schemes, credentials in the URL and junk', async () => {
    expect((await refusal(safeFetch('ftp://example.com/x', {}, policy()))).reason).toBe('scheme_not_allowed');
    expect((await refusal(safeFetch('file:///etc/passwd', {}, policy()))).reason).toBe('scheme_not_allowed');
    expect((await refusal(safeFetch(`http://u:p@127.0.0.1:${port}/ok`, {}, policy()))).reason).toBe('credentials_in_url');
    expect((await refusal(safeFetch('not a url', {}, policy()))).reason).toBe('invalid_url');
  });

  it('refuses a name when any of its addresses is not public, even if another is', async () => {
    fakeDns.set('mixed.interim.test', [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ]);
    const error = await refusal(safeFetch('https://mixed.interim.test/', {}, policy({ allowPrivate: false })));
    expect(error).toBeInstanceOf(OutboundBlocked);
    expect(error.reason).toBe('non_public_address');
    expect(error.message).toContain('10.0.0.7');
  });

  it('connects to the address it checked, never resolving again (DNS rebinding)', async () => {
    // The fake resolver answers loopback once, then rebinds the name to another address.
    fakeDns.set('rebind.interim.test', [{ address: '127.0.0.1', family: 4 }]);
    const res = await safeFetch(`http://rebind.interim.test:${port}/ok`, {}, policy());
    expect(res.status).toBe(201);
    expect(seen.at(-1)!.headers.host).toBe(`rebind.interim.test:${port}`);
  });

  it('sends method, headers and body, and returns status, headers and body', async () => {
    const res = await safeFetch(
      `http://127.0.0.1:${port}/ok?x=1`,
      { method: 'post', headers: { 'content-type': 'application/json', authorization: 'Bearer t', host: 'evil.example', 'transfer-encoding': 'chunked' }, body: '{"a":1}' },
      policy(),
    );
    expect(res).toMatchObject({ status: 201, body: '{"echoed":"POST"}' });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-multi']).toBe('a, b');
    const request = seen.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', path: '/ok?x=1', body: '{"a":1}' });
    expect(request.headers).toMatchObject({ authorization: 'Bearer t', host: `127.0.0.1:${port}`, 'content-length': '7' });
  });

  it('enforces the allowlist exactly', async () => {
    const allowed = await safeFetch(`http://127.0.0.1:${port}/ok`, {}, policy({ allowedHosts: ['127.0.0.1'] }));
    expect(allowed.status).toBe(201);
    const error = await refusal(safeFetch(`http://localhost:${port}/ok`, {}, policy({ allowedHosts: ['127.0.0.1', 'example.com'] })));
    expect(error).toBeInstanceOf(OutboundBlocked);
    expect(error.reason).toBe('host_not_allowed');
  });

  it('returns a redirect as it is, without following it', async () => {
    const okBefore = hitsOf('/ok');
    const res = await safeFetch(`http://127.0.0.1:${port}/redirect`, {}, policy());
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/ok');
    expect(hitsOf('/ok')).toBe(okBefore);
  });

  it('aborts a response larger than the cap, declared or streamed', async () => {
    for (const path of ['/big-declared', '/big-chunked']) {
      const error = await refusal(safeFetch(`http://127.0.0.1:${port}${path}`, {}, policy({ maxResponseBytes: 1024 * 1024 })));
      expect(error).toBeInstanceOf(OutboundFailed);
      expect(error.reason).toBe('response_too_large');
    }
  });

  it('times out a server that does not answer, or does not finish its body', async () => {
    for (const path of ['/hang', '/slow-body']) {
      const t0 = performance.now();
      const error = await refusal(safeFetch(`http://127.0.0.1:${port}${path}`, {}, policy({ timeoutMs: 300 })));
      const took = performance.now() - t0;
      expect(error).toBeInstanceOf(OutboundFailed);
      expect(error.reason).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(5000);
    }
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = safeFetch(`http://127.0.0.1:${port}/hang`, { signal: controller.signal }, policy({ timeoutMs: 5000 }));
    setTimeout(() => controller.abort(), 50);
    const error = await refusal(pending);
    expect(error.reason).toBe('aborted');
  });

  it('reports a refused connection as a failure, not a block', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await refusal(safeFetch(`http://127.0.0.1:${freePort}/`, {}, policy()));
    expect(error).toBeInstanceOf(OutboundFailed);
    expect(error.reason).toBe('connection_failed');
  });
});
