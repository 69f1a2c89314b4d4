import autocannon, { type Options, type Result } from 'autocannon';
import { basicAuth, type ClientCredentials } from './code-flow.ts';
import { cpuSeconds } from './processes.ts';

/** One autocannon run, reduced to the figures we record. */
export interface LoadResult {
  /** Successful (2xx) responses per second over the run. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  /** Non-2xx responses, socket errors and timeouts: any of these makes the run suspect. */
  failed: number;
  /** CPU time the server process spent per successful request (µs), when its pid is known. */
  cpuUs?: number;
}

export interface LoadOptions {
  connections: number;
  durationSecs: number;
  /** The server's process id, to measure its CPU time over the run. */
  pid?: number;
  /** Collects every response (when it ended, on performance.now(), and its latency), to pick out a time window. */
  samples?: ResponseSample[];
  /** Ends the run early when it settles (durationSecs stays the upper bound). */
  until?: Promise<unknown>;
}

export interface ResponseSample {
  /** performance.now() of this process when the response was complete. */
  end: number;
  ms: number;
  status: number;
}

/** autocannon, plus the per-response samples and early stop of LoadOptions. */
function cannon(options: Options, opts: LoadOptions): Promise<Result> {
  const tracker = autocannon(options);
  const samples = opts.samples;
  if (samples) tracker.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => samples.push({ end: performance.now(), ms, status }));
  void opts.until?.then(() => tracker.stop());
  return tracker;
}

/** Runs `fn` and adds the server's CPU time per successful request to its result. */
async function withCpu(pid: number | undefined, fn: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = pid ? cpuSeconds(pid) : 0;
  const result = await fn();
  if (pid && result.ok) result.cpuUs = ((cpuSeconds(pid) - before) * 1e6) / result.ok;
  return result;
}

function reduce(result: Result): LoadResult {
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * Refresh-token grants with rotation, measured honestly: every request redeems a refresh
 * token that was never used before. Tokens wait in one FIFO pool (seeded by real
 * sign-ins, several users); each request takes the oldest and its response puts the
 * rotated one back at the end, so the pool never runs dry and no token is replayed. The
 * request asks for `resource`, which makes the access token a JWT; the response also
 * carries an ID token. Requests still in flight when the run ends lose their new token,
 * so the pool shrinks by at most `connections` per run.
 */
export async function refreshGrantLoad(issuer: string, client: ClientCredentials, pool: string[], resource: string, opts: LoadOptions): Promise<LoadResult> {
  if (pool.length < 2 * opts.connections) throw new Error(`only ${pool.length} refresh tokens left for ${opts.connections} connections`);
  const url = new URL(issuer);
  const path = `${url.pathname.replace(/\/$/, '')}/token`;
  const headers = { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' };
  let unparsable = 0;
  const result = await withCpu(opts.pid, async () => reduce(await cannon({
    url: url.origin,
    connections: opts.connections,
    duration: opts.durationSecs,
    requests: [
      {
        method: 'POST',
        path,
        headers,
        setupRequest: (request) => {
          const token = pool.shift();
          if (!token) throw new Error('the refresh-token pool ran dry');
          return { ...request, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}&resource=${encodeURIComponent(resource)}` };
        },
        onResponse: (status, body) => {
          if (status !== 200) return;
          try {
            pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
          } catch {
            unparsable++;
          }
        },
      },
    ],
  }, opts)));
  result.failed += unparsable;
  return result;
}

/** GET userinfo with bearer (opaque) access tokens, cycling through `accessTokens`. */
export async function userinfoLoad(issuer: string, accessTokens: string[], opts: LoadOptions): Promise<LoadResult> {
  const url = new URL(issuer);
  const path = `${url.pathname.replace(/\/$/, '')}/me`;
  let next = 0;
  return withCpu(opts.pid, async () =>
    reduce(
      await autocannon({
        url: url.origin,
        connections: opts.connections,
        duration: opts.durationSecs,
        requests: [
          {
            method: 'GET',
            path,
            setupRequest: (request) => ({ ...request, headers: { authorization: `Bearer ${accessTokens[next++ % accessTokens.length]}` } }),
          },
        ],
      }),
    ),
  );
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function medianOf(results: LoadResult[]): LoadResult {
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    ok: results.reduce((n, r) => n + r.ok, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    ...(results.every((r) => r.cpuUs !== undefined) ? { cpuUs: median(results.map((r) => r.cpuUs!)) } : {}),
  };
}

/** POST token introspection (client_secret_basic) of opaque access tokens, cycling through `accessTokens`. */
export async function introspectionLoad(issuer: string, client: ClientCredentials, accessTokens: string[], opts: LoadOptions): Promise<LoadResult> {
  const url = new URL(issuer);
  const path = `${url.pathname.replace(/\/$/, '')}/token/introspection`;
  const headers = { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' };
  let next = 0;
  let inactive = 0;
  const result = await withCpu(opts.pid, async () =>
    reduce(
      await autocannon({
        url: url.origin,
        connections: opts.connections,
        duration: opts.durationSecs,
        requests: [
          {
            method: 'POST',
            path,
            headers,
            setupRequest: (request) => ({ ...request, body: `token=${encodeURIComponent(accessTokens[next++ % accessTokens.length]!)}` }),
            onResponse: (status, body) => {
              if (status === 200 && !body.includes('"active":true')) inactive++;
            },
          },
        ],
      }),
    ),
  );
  // An inactive answer is a failure here: every token introspected is live.
  result.failed += inactive;
  return result;
}
