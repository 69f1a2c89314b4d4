import { loadavg } from 'node:os';
import type { Db } from '../src/db/database.ts';
import { newId } from '../src/security/ids.ts';
import { createPasswordHasher, DEFAULT_PASSWORD_HASHING } from '../src/security/passwords.ts';
import { randomSecret } from '../src/security/tokens.ts';
import { freePort } from '../test/helpers/postgres-cluster.ts';
import { inParallel, signInWithCodeFlow, type ClientCredentials } from './code-flow.ts';
import { startInstance, type BenchDatabase, type Instance, type Mode } from './fleet.ts';
import { refreshGrantLoad, type LoadResult, type ResponseSample } from './load.ts';
import { BENCH_PASSWORD, BENCH_RESOURCE, benchUserRows, insertBenchApplications, insertInBatches } from './seed.ts';

/**
 * `expiry --token-load` (issue 11, target 4: "without stalling the token endpoint, report the
 * longest event-loop stall and token p99 during the burst"). Each instance is one serving
 * process with the expiry inside it, as `interim serve` runs with INTERIM_PROCESSES=1 and the
 * worker on (bench/instance.ts `serve-expire`: on `go` it runs the worker's expire-grants task once). Refresh grants (bench/load.ts refreshGrantLoad, rotation,
 * a JWT access token and an ID token each) go to every instance, half the connections each
 * with 2, while the burst expires; the same load without a burst runs in the same run on the
 * same copy, before or after the burst (the order flips run by run), so the two are compared
 * under the same machine load. Token users are separate from the requesters: their refreshes
 * succeed throughout, so a failure is a failure.
 */
export interface TokenLoadSeed {
  client: ClientCredentials;
  users: { id: string; email: string }[];
}

export interface TokenLoadOptions {
  connections: number;
  /** Length of the window without a burst (the burst window lasts as long as the expiry). */
  quietSecs: number;
}

/** Latency figures of one window, from every response that overlapped it. */
export interface WindowStats {
  requests: number;
  failed: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  seconds: number;
}

export interface TokenLoadRun {
  expired: number;
  expiredBy: number[];
  /** From `go` to the last instance done, under token load. */
  seconds: number;
  maxStallMs: number;
  p99DelayMs: number;
  burst: WindowStats;
  quiet: WindowStats;
  order: 'quiet-first' | 'burst-first';
  load: number;
}

const SIGN_INS = 100;
const SCRYPT_N = 1024; // sign-ins only; the token path never hashes

/** A first-party application, its resource server, a mapped group and users with a password who are not requesters. */
export async function seedTokenLoad(db: Db, now: number): Promise<TokenLoadSeed> {
  const clock = { now: () => now };
  const client: ClientCredentials = { id: newId(clock), secret: randomSecret('cs_'), redirectUri: 'http://127.0.0.1:9/callback' };
  const hash = await createPasswordHasher({ ...DEFAULT_PASSWORD_HASHING, scryptN: SCRYPT_N }).hash(BENCH_PASSWORD);
  const users = benchUserRows(SIGN_INS, 'token-user', now, hash);
  const groupId = newId(clock);
  const mappingId = newId(clock);
  await db.transaction().execute(async (trx) => {
    await insertBenchApplications(trx, [{ client, alg: 'EdDSA', name: 'Token Load App' }], now);
    await insertInBatches(trx, 'users', users);
    await trx.insertInto('groups').values({ id: groupId, name: 'token-load-users', description: '', is_system: 0, expires_at: null, created_at: now, updated_at: now }).execute();
    await insertInBatches(trx, 'memberships', users.map((u) => ({ group_id: groupId, user_id: u.id, expires_at: null, created_at: now })));
    await trx.insertInto('mappings').values({ id: mappingId, app_id: client.id, claim: 'roles', value_json: JSON.stringify(['viewer']), description: '', created_at: now, updated_at: now }).execute();
    await trx.insertInto('mapping_groups').values({ mapping_id: mappingId, group_id: groupId }).execute();
  });
  return { client, users: users.map((u) => ({ id: u.id, email: u.email })) };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0;
}

/** Responses whose time in flight overlapped [from, to] (bench process clock). */
function windowStats(samples: ResponseSample[], from: number, to: number): WindowStats {
  const within = samples.filter((s) => s.end >= from && s.end - s.ms <= to);
  const ms = within.map((s) => s.ms).sort((a, b) => a - b);
  const ok = within.filter((s) => s.status === 200).length;
  const seconds = (to - from) / 1000;
  return { requests: within.length, failed: within.length - ok, perSecond: ok / seconds, p50Ms: percentile(ms, 0.5), p99Ms: percentile(ms, 0.99), maxMs: ms.at(-1) ?? 0, seconds };
}

/** Refresh grants spread over the instances (one shared token pool), until `until` or `secs`. */
async function loadAcross(issuers: string[], client: ClientCredentials, pool: string[], connections: number, secs: number, samples?: ResponseSample[], until?: Promise<unknown>): Promise<LoadResult[]> {
  const per = Math.max(1, Math.round(connections / issuers.length));
  return Promise.all(issuers.map((issuer) => refreshGrantLoad(issuer, client, pool, BENCH_RESOURCE, { connections: per, durationSecs: secs, samples, until })));
}

/** One run on a fresh copy: start the instances, sign in, warm up, then a quiet window and a burst window in `run`'s order. */
export async function runWithTokenLoad(copy: BenchDatabase, mode: Mode, expiresAt: number, seed: TokenLoadSeed, opts: TokenLoadOptions, run: number, build: { root?: string }): Promise<TokenLoadRun> {
  // One issuer for all instances (as behind a load balancer); each listens on its own port.
  const ports = await Promise.all(Array.from({ length: mode.instances }, () => freePort()));
  const issuerOrigin = `http://127.0.0.1:${ports[0]}`;
  const instances: Instance[] = [];
  try {
    for (const port of ports) {
      const env = { ...copy.env, BENCH_NOW: String(expiresAt + 1000), INTERIM_HOST: '127.0.0.1', INTERIM_PORT: String(port), INTERIM_BASE_URL: issuerOrigin };
      instances.push(await startInstance('serve-expire', env, build.root));
    }
    const issuers = ports.map((p) => `http://127.0.0.1:${p}/oidc`);
    // Each window (warm-up, without, burst) loses at most `connections` tokens in flight when it stops.
    const pool = await inParallel(seed.users.slice(0, 4 * opts.connections + 4), 4, async (u) => (await signInWithCodeFlow(issuers[0]!, seed.client, { email: u.email, password: BENCH_PASSWORD }, { resource: BENCH_RESOURCE })).refresh_token);
    await loadAcross(issuers, seed.client, pool, opts.connections, 1);

    const quiet = async () => {
      const samples: ResponseSample[] = [];
      const from = performance.now();
      const results = await loadAcross(issuers, seed.client, pool, opts.connections, opts.quietSecs, samples);
      const stats = windowStats(samples, from, performance.now());
      // autocannon also counts socket errors and timeouts, which have no response sample.
      stats.failed = Math.max(stats.failed, results.reduce((n, r) => n + r.failed, 0));
      return stats;
    };
    const burst = async () => {
      const samples: ResponseSample[] = [];
      let settle!: () => void;
      const done = new Promise<void>((resolve) => (settle = resolve));
      const loading = loadAcross(issuers, seed.client, pool, opts.connections, 120, samples, done);
      await new Promise((resolve) => setTimeout(resolve, 500)); // the load is steady before the burst
      const go = performance.now();
      for (const i of instances) i.send({ go: true });
      const results = await Promise.all(instances.map((i) => i.next<{ expired: number; ms: number; maxStallMs: number; p99DelayMs: number }>()));
      const end = performance.now();
      settle();
      const stats = windowStats(samples, go, end);
      stats.failed = Math.max(stats.failed, (await loading).reduce((n, r) => n + r.failed, 0));
      return {
        stats,
        expired: results.reduce((n, r) => n + r.expired, 0),
        expiredBy: results.map((r) => r.expired),
        seconds: (end - go) / 1000,
        maxStallMs: Math.max(...results.map((r) => r.maxStallMs)),
        p99DelayMs: Math.max(...results.map((r) => r.p99DelayMs)),
      };
    };
    const quietFirst = run % 2 === 1;
    const q1 = quietFirst ? await quiet() : undefined;
    const b = await burst();
    const q = q1 ?? (await quiet());
    return { expired: b.expired, expiredBy: b.expiredBy, seconds: b.seconds, maxStallMs: b.maxStallMs, p99DelayMs: b.p99DelayMs, burst: b.stats, quiet: q, order: quietFirst ? 'quiet-first' : 'burst-first', load: loadavg()[0]! };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
  }
}
