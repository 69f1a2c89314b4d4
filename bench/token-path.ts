import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { inParallel, refresh, signInWithCodeFlow, type ClientCredentials } from './code-flow.ts';
import { introspectionLoad, median, medianOf, refreshGrantLoad, userinfoLoad, type LoadOptions, type LoadResult } from './load.ts';
import { formatProfile, summarizeCpuProfile } from './profile.ts';
import { cpuSeconds, ROOT, startBareProvider, startInterim, type ServerProcess } from './processes.ts';
import { BENCH_PASSWORD, BENCH_RESOURCE, DEFAULT_SEED, seedTokenDatabase, type SeedState } from './seed.ts';

/**
 * The token path (issue 11, targets 1–3): Interim against bare oidc-provider, server CPU
 * per request, for the refresh grant at EdDSA and RS256 (each against a bare provider
 * signing with the same algorithm), userinfo and token introspection; on SQLite or on a
 * throwaway PostgreSQL cluster, with 1 or also 2 Interim instances on one database; and
 * the SQL statements, round trips and pool checkouts per request, counted in a separate
 * Interim process that preloads bench/count-statements.ts. Runs alternate A/B (the order
 * flips every run); figures are medians of the runs, ratios are taken run by run.
 */
export type Alg = 'EdDSA' | 'RS256';

export interface TokenPathOptions {
  dialect: 'sqlite' | 'postgres';
  algs: Alg[];
  /** Also run the refresh grant split over 2 Interim instances on the same database (interleaved with 1). */
  twoInstances: boolean;
  signIns: number;
  runs: number;
  durationSecs: number;
  warmupSecs: number;
  connections: number;
  /** Count statements per refresh grant, userinfo and introspection. */
  count: boolean;
  /** CPU profile of Interim during one more refresh run (the first algorithm). */
  profile: boolean;
  dir?: string;
  /** A checkout of Interim to measure alongside (before/after), e.g. `git archive` of the commit before, with node_modules linked. */
  baseline?: string;
}

export const DEFAULT_TOKEN_PATH_BENCH: TokenPathOptions = {
  dialect: 'sqlite',
  algs: ['EdDSA', 'RS256'],
  twoInstances: false,
  signIns: 100,
  runs: 3,
  durationSecs: 8,
  warmupSecs: 2,
  connections: 20,
  count: true,
  profile: false,
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (r: LoadResult) =>
  `${Math.round(r.rps)}/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms${r.cpuUs ? `  cpu ${Math.round(r.cpuUs)} µs/req` : ''}${r.dbCpuUs ? `  db ${Math.round(r.dbCpuUs)} µs/req` : ''}${r.failed ? `  FAILED ${r.failed}` : ''}`;

declare module './load.ts' {
  interface LoadResult {
    /** PostgreSQL server CPU (all its processes) per successful request, µs. */
    dbCpuUs?: number;
  }
}

interface Pool {
  client: ClientCredentials;
  tokens: string[];
  signedIn: number;
}

interface Deployment {
  dataDir: string;
  env: Record<string, string>;
  /** CPU seconds of the database server's processes so far (PostgreSQL), by pid. */
  dbCpu?: () => Promise<Map<number, number>>;
  close(): Promise<void>;
}

/**
 * Issue 14 (usage facts): the seed's temporary memberships stand for grants, so on a checkout
 * that records usage (a `grant_usage` table, migrated when the server started) each temporary
 * group gets its usage row, and every token takes the usage path: the row read with the claims
 * and, at most once a minute per grant, the conditional write. A checkout without the table
 * (the baseline before issue 14) is left alone.
 */
async function registerTemporaryGroupsAsGrants(file: string): Promise<void> {
  const { openDatabase } = await import('../src/db/database.ts');
  const { sql } = await import('kysely');
  const database = openDatabase({ kind: 'sqlite', file });
  try {
    const { rows } = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'grant_usage'`.execute(database.db);
    if (!rows[0]?.n) return;
    await sql`insert or ignore into grant_usage (group_id, request_id) select distinct group_id, 'bench-' || group_id from memberships where expires_at is not null`.execute(database.db);
    const count = await sql<{ n: number }>`select count(*) as n from grant_usage`.execute(database.db);
    log(`usage facts: ${count.rows[0]?.n} temporary groups registered as grants`);
  } finally {
    await database.close();
  }
}

const SCRYPT_N = 1024; // sign-ins only; the token path never hashes a password

async function deploy(opts: TokenPathOptions, dataDir: string): Promise<{ deployment: Deployment; state: SeedState }> {
  const seedState = path.join(dataDir, 'bench-state.json');
  if (opts.dialect === 'sqlite') {
    // With --baseline the data is migrated by the older checkout: each server then migrates its own copy on start.
    const migrate = opts.baseline ? ((await import(path.join(opts.baseline, 'src/db/migrate.ts'))) as { migrateToLatest: (db: unknown) => Promise<unknown> }).migrateToLatest : undefined;
    const state = existsSync(seedState) ? (JSON.parse(readFileSync(seedState, 'utf8')) as SeedState) : await seedTokenDatabase(dataDir, DEFAULT_SEED, { scryptN: SCRYPT_N, migrate });
    if (!state.clientRs256) throw new Error(`${dataDir} was seeded before the RS256 application existed: use a new --dir`);
    // SQLite keeps its master key in the data directory (a reused --dir keeps working).
    return { state, deployment: { dataDir, env: {}, close: async () => undefined } };
  }
  log('starting a throwaway PostgreSQL cluster …');
  const cluster = await startPostgresCluster();
  try {
    const name = 'token_bench';
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = cluster.url.replace(/\/postgres$/, `/${name}`);
    log(`seeding ${DEFAULT_SEED.users} users × ${DEFAULT_SEED.membershipsPerUser} memberships on PostgreSQL …`);
    const state = await seedTokenDatabase(dataDir, DEFAULT_SEED, { target: { kind: 'postgres', url }, scryptN: SCRYPT_N });
    // The postmaster is the parent of any backend: ask one for its pid while it is connected.
    const probe = new pg.Client({ connectionString: url });
    await probe.connect();
    const { rows } = await probe.query<{ pid: number }>('select pg_backend_pid() as pid');
    const postmaster = parentOf(rows[0]!.pid);
    await probe.end();
    const dbCpu = async () => {
      const pids = [postmaster, ...childrenOf(postmaster)];
      return new Map(pids.flatMap((pid) => (existsSync(`/proc/${pid}`) ? [[pid, safeCpu(pid)] as [number, number]] : [])));
    };
    return {
      state,
      deployment: { dataDir, env: { DATABASE_URL: url, INTERIM_MASTER_KEY: randomBytes(32).toString('base64') }, dbCpu, close: async () => cluster.stop() },
    };
  } catch (error) {
    cluster.stop();
    throw error;
  }
}

const safeCpu = (pid: number) => {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
};
const statFields = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};
const parentOf = (pid: number) => Number(statFields(pid)[1]);
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return parentOf(pid) === parent;
      } catch {
        return false;
      }
    });
}

/** The database's CPU over `fn`, per successful request. */
async function withDbCpu(deployment: Deployment, fn: () => Promise<LoadResult>): Promise<LoadResult> {
  if (!deployment.dbCpu) return fn();
  const before = await deployment.dbCpu();
  const result = await fn();
  const after = await deployment.dbCpu();
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
  if (result.ok) result.dbCpuUs = (seconds * 1e6) / result.ok;
  return result;
}

async function signIn(server: ServerProcess, pool: Pool, users: { id: string; email: string }[], count: number, bare: boolean): Promise<void> {
  const more = users.slice(pool.signedIn, pool.signedIn + count);
  pool.signedIn += more.length;
  const tokens = await inParallel(more, 4, async (user) => {
    const extra: Record<string, string> = { resource: BENCH_RESOURCE };
    if (bare) extra.login_hint = user.id;
    return (await signInWithCodeFlow(server.issuer, pool.client, { email: user.email, password: BENCH_PASSWORD }, extra)).refresh_token;
  });
  pool.tokens.push(...tokens);
}

async function topUp(server: ServerProcess, pool: Pool, users: { id: string; email: string }[], connections: number, bare: boolean): Promise<void> {
  const short = 4 * connections - pool.tokens.length;
  if (short > 0) await signIn(server, pool, users, short, bare);
}

/** Opaque access tokens (a refresh without a resource indicator) for userinfo and introspection. */
async function opaqueAccessTokens(server: ServerProcess, pool: Pool, count: number): Promise<string[]> {
  const taken = pool.tokens.splice(0, count);
  const issued = await inParallel(taken, 4, (token) => refresh(server.issuer, pool.client, token));
  pool.tokens.push(...issued.map((t) => t.refresh_token));
  return issued.map((t) => t.access_token);
}

/** The refresh grant over several Interim instances at once, one shared pool; CPU summed over them. */
async function refreshAcross(servers: ServerProcess[], pool: Pool, load: LoadOptions): Promise<LoadResult> {
  const before = servers.map((s) => cpuSeconds(s.pid));
  const per = Math.max(1, Math.round(load.connections / servers.length));
  const results = await Promise.all(servers.map((s) => refreshGrantLoad(s.issuer, pool.client, pool.tokens, BENCH_RESOURCE, { connections: per, durationSecs: load.durationSecs })));
  const cpu = servers.reduce((sum, s, i) => sum + cpuSeconds(s.pid) - before[i]!, 0);
  const ok = results.reduce((n, r) => n + r.ok, 0);
  return {
    rps: results.reduce((n, r) => n + r.rps, 0),
    p50: median(results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    ok,
    failed: results.reduce((n, r) => n + r.failed, 0),
    cpuUs: ok ? (cpu * 1e6) / ok : undefined,
  };
}

export interface StatementCounts {
  statements: number;
  roundTrips: number;
  checkouts: number;
  bySql: Record<string, number>;
}

/** Statements per request: `n` requests one after another against an Interim that preloads the counter. */
async function countPer(server: ServerProcess, countFile: string, n: number, request: () => Promise<void>): Promise<StatementCounts> {
  const read = async (): Promise<StatementCounts> => {
    rmSync(countFile, { force: true });
    process.kill(server.pid, 'SIGUSR2');
    for (let i = 0; i < 100 && !existsSync(countFile); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 20));
    return JSON.parse(readFileSync(countFile, 'utf8')) as StatementCounts;
  };
  const before = await read();
  for (let i = 0; i < n; i++) await request();
  const after = await read();
  const bySql: Record<string, number> = {};
  for (const [sql, c] of Object.entries(after.bySql)) {
    const d = (c - (before.bySql[sql] ?? 0)) / n;
    if (d > 0) bySql[sql] = d;
  }
  return {
    statements: (after.statements - before.statements) / n,
    roundTrips: (after.roundTrips - before.roundTrips) / n,
    checkouts: (after.checkouts - before.checkouts) / n,
    bySql,
  };
}

type TargetName = 'interim' | 'base' | 'bare';

interface Series {
  interim: LoadResult[];
  bare: LoadResult[];
  /** --baseline: the same runs against another checkout of Interim (before a change). */
  base: LoadResult[];
}

const emptySeries = (): Series => ({ interim: [], bare: [], base: [] });
/** The order of one run: rotated run by run, so drift in the machine's load favours none. */
const orderOf = (run: number, names: TargetName[]) => names.map((_, i) => names[(i + run) % names.length]!);

export async function runTokenPathBench(opts: TokenPathOptions = DEFAULT_TOKEN_PATH_BENCH): Promise<void> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'interim-token-path-'));
  const cleanup: (() => Promise<void>)[] = [];
  const load0 = loadavg()[0]!;
  try {
    const { deployment, state } = await deploy(opts, dir);
    cleanup.push(() => deployment.close());
    const stride = Math.max(1, Math.floor(state.users.length / opts.signIns));
    const users = [...state.users.filter((_, i) => i % stride === 0), ...state.users.filter((_, i) => i % stride !== 0)];
    const clientOf = (alg: Alg) => (alg === 'EdDSA' ? state.client : state.clientRs256!);

    // The baseline gets its own copy of the seeded data, taken before either server migrates it. On
    // PostgreSQL both checkouts serve the one seeded database (so their migrations must agree); the copy
    // only holds the state file, and each keeps its own token pool.
    const baseDir = `${dir.replace(/\/$/, '')}-base`;
    if (opts.baseline && !existsSync(baseDir)) cpSync(dir, baseDir, { recursive: true });
    const interim = await startInterim(dir, { env: deployment.env });
    cleanup.push(() => interim.stop());
    if (opts.dialect === 'sqlite') await registerTemporaryGroupsAsGrants(path.join(dir, 'interim.db'));
    const base = opts.baseline ? await startInterim(baseDir, { env: deployment.env, root: opts.baseline }) : undefined;
    if (base) cleanup.push(() => base.stop());
    const names: TargetName[] = base ? ['interim', 'base', 'bare'] : ['interim', 'bare'];
    const second = opts.twoInstances ? await startInterim(dir, { env: deployment.env }) : undefined;
    if (second) cleanup.push(() => second.stop());
    const bare = new Map<Alg, ServerProcess>();
    for (const alg of opts.algs) {
      const b = await startBareProvider(clientOf(alg), alg);
      cleanup.push(() => b.stop());
      bare.set(alg, b);
    }

    const pools = new Map<string, Pool>();
    const serverOf = (target: TargetName, alg: Alg) => (target === 'interim' ? interim : target === 'base' ? base! : bare.get(alg)!);
    const poolFor = (target: TargetName, alg: Alg) => {
      const key = `${target}:${alg}`;
      if (!pools.has(key)) pools.set(key, { client: clientOf(alg), tokens: [], signedIn: 0 });
      return pools.get(key)!;
    };
    const started = performance.now();
    for (const alg of opts.algs) {
      for (const target of names) await signIn(serverOf(target, alg), poolFor(target, alg), users, opts.signIns, target === 'bare');
    }
    log(`signed in ${opts.signIns} users per application on Interim and bare in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const load: LoadOptions = { connections: opts.connections, durationSecs: opts.durationSecs };
    const warmup: LoadOptions = { ...load, durationSecs: opts.warmupSecs };
    const refreshSeries = new Map<Alg, Series>(opts.algs.map((alg) => [alg, emptySeries()]));
    const twoSeries: Series = emptySeries(); // interim = 1 instance, bare = 2 instances (same pool)

    for (const alg of opts.algs) {
      for (const target of names) await refreshGrantLoad(serverOf(target, alg).issuer, poolFor(target, alg).client, poolFor(target, alg).tokens, BENCH_RESOURCE, warmup);
    }
    for (let run = 0; run < opts.runs; run++) {
      for (const alg of opts.algs) {
        for (const target of orderOf(run, names)) {
          const server = serverOf(target, alg);
          const pool = poolFor(target, alg);
          await topUp(server, pool, users, opts.connections, target === 'bare');
          const result = await withDbCpu(deployment, () => refreshGrantLoad(server.issuer, pool.client, pool.tokens, BENCH_RESOURCE, { ...load, pid: server.pid }));
          refreshSeries.get(alg)![target].push(result);
          log(`refresh ${alg.padEnd(5)} ${target.padEnd(7)} run ${run + 1}: ${fmt(result)}`);
        }
      }
      if (second) {
        const pool = poolFor('interim', opts.algs[0]!);
        for (const n of run % 2 ? [2, 1] : [1, 2]) {
          await topUp(interim, pool, users, opts.connections, false);
          const result = await withDbCpu(deployment, () => refreshAcross(n === 1 ? [interim] : [interim, second], pool, load));
          (n === 1 ? twoSeries.interim : twoSeries.bare).push(result);
          log(`refresh ${opts.algs[0]} ${n} instance${n > 1 ? 's' : ' '} run ${run + 1}: ${fmt(result)}`);
        }
      }
    }

    // userinfo and introspection, opaque access tokens of the first algorithm's application.
    const alg0 = opts.algs[0]!;
    const accessTokens = new Map<string, string[]>();
    for (const target of names) {
      const server = serverOf(target, alg0);
      const pool = poolFor(target, alg0);
      await topUp(server, pool, users, opts.connections, target === 'bare');
      accessTokens.set(target, await opaqueAccessTokens(server, pool, Math.min(100, pool.tokens.length)));
    }
    const userinfoSeries: Series = emptySeries();
    const introspectionSeries: Series = emptySeries();
    const endpoints = [
      { name: 'userinfo', series: userinfoSeries, run: (s: ServerProcess, t: string[], o: LoadOptions) => userinfoLoad(s.issuer, t, o) },
      { name: 'introspection', series: introspectionSeries, run: (s: ServerProcess, t: string[], o: LoadOptions) => introspectionLoad(s.issuer, clientOf(alg0), t, o) },
    ];
    for (const e of endpoints) {
      for (const target of names) await e.run(serverOf(target, alg0), accessTokens.get(target)!, warmup);
    }
    for (let run = 0; run < opts.runs; run++) {
      for (const e of endpoints) {
        for (const target of orderOf(run, names)) {
          const server = serverOf(target, alg0);
          const result = await withDbCpu(deployment, () => e.run(server, accessTokens.get(target)!, { ...load, pid: server.pid }));
          e.series[target].push(result);
          log(`${e.name.padEnd(13)} ${target.padEnd(7)} run ${run + 1}: ${fmt(result)}`);
        }
      }
    }

    let counts: Record<string, StatementCounts> | undefined;
    let countsBefore: Record<string, StatementCounts> | undefined;
    if (opts.count) {
      await interim.stop();
      counts = await countStatements(dir, undefined, poolFor('interim', alg0), accessTokens.get('interim')!);
      if (base) countsBefore = await countStatements(baseDir, opts.baseline, poolFor('base', alg0), accessTokens.get('base')!);
    }

    /** Statements per refresh grant, userinfo and introspection, in a server process (of `root`) that preloads the counter. */
    async function countStatements(dataDir: string, root: string | undefined, pool: Pool, tokens: string[]): Promise<Record<string, StatementCounts>> {
      const countFile = path.join(dataDir, 'statement-counts.json');
      const counted = await startInterim(dataDir, { env: { ...deployment.env, INTERIM_BENCH_COUNT_FILE: countFile }, flags: ['--import', path.join(ROOT, 'bench/count-statements.ts')], root });
      cleanup.push(() => counted.stop());
      await topUp(counted, pool, users, opts.connections, false);
      let i = 0;
      const auth = `Basic ${Buffer.from(`${encodeURIComponent(pool.client.id)}:${encodeURIComponent(pool.client.secret)}`).toString('base64')}`;
      // Warm the process first (statements are prepared once, keys loaded), then count.
      for (let w = 0; w < 5; w++) pool.tokens.push((await refresh(counted.issuer, pool.client, pool.tokens.shift()!, BENCH_RESOURCE)).refresh_token);
      const result = {
        refresh: await countPer(counted, countFile, 20, async () => {
          pool.tokens.push((await refresh(counted.issuer, pool.client, pool.tokens.shift()!, BENCH_RESOURCE)).refresh_token);
        }),
        userinfo: await countPer(counted, countFile, 20, async () => {
          const res = await fetch(`${counted.issuer}/me`, { headers: { authorization: `Bearer ${tokens[i++ % tokens.length]}` } });
          if (!res.ok) throw new Error(`userinfo answered ${res.status}`);
          await res.arrayBuffer();
        }),
        introspection: await countPer(counted, countFile, 20, async () => {
          const res = await fetch(`${counted.issuer}/token/introspection`, {
            method: 'POST',
            headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
            body: `token=${encodeURIComponent(tokens[i++ % tokens.length]!)}`,
          });
          if (!((await res.json()) as { active?: boolean }).active) throw new Error('introspection said inactive');
        }),
      };
      for (const [what, c] of Object.entries(result)) {
        log(`\n${root ? 'before: ' : ''}${what}: ${c.statements} statements, ${c.roundTrips} round trips, ${c.checkouts} pool checkouts per request (${opts.dialect})`);
        for (const [sql, n] of Object.entries(c.bySql)) log(`  ${n.toFixed(2)} × ${sql}`);
      }
      await counted.stop();
      return result;
    }

    if (opts.profile) {
      // One process per endpoint, so each profile holds start-up and that endpoint only.
      const pool = poolFor('interim', alg0);
      // With --baseline, the checkout before the change is profiled the same way (its own data copy and pool).
      const profiledTargets: { label: string; dataDir: string; root?: string; pool: Pool; tokens: string[] }[] = [
        { label: 'after', dataDir: dir, pool, tokens: accessTokens.get('interim')! },
        ...(base ? [{ label: 'before', dataDir: baseDir, root: opts.baseline, pool: poolFor('base', alg0), tokens: accessTokens.get('base')! }] : []),
      ];
      for (const target of profiledTargets) {
        const targetKinds = [
          { name: 'refresh grants', run: (s: ServerProcess, o: LoadOptions) => refreshGrantLoad(s.issuer, target.pool.client, target.pool.tokens, BENCH_RESOURCE, o) },
          { name: 'userinfo', run: (s: ServerProcess, o: LoadOptions) => userinfoLoad(s.issuer, target.tokens, o) },
          { name: 'introspection', run: (s: ServerProcess, o: LoadOptions) => introspectionLoad(s.issuer, clientOf(alg0), target.tokens, o) },
        ];
        for (const kind of targetKinds) {
          const profileDir = mkdtempSync(path.join(dir, 'profile-'));
          const profiled = await startInterim(target.dataDir, { cpuProfileDir: profileDir, env: deployment.env, root: target.root });
          cleanup.push(() => profiled.stop());
          await topUp(profiled, target.pool, users, opts.connections, false);
          await kind.run(profiled, warmup);
          await topUp(profiled, target.pool, users, opts.connections, false);
          const result = await kind.run(profiled, { ...load, pid: profiled.pid });
          log(`${kind.name} interim (${target.label}) under --cpu-prof: ${fmt(result)}`);
          await profiled.stop();
          const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
          if (file) log(`\nprofile of the Interim server process (${target.label}; start-up + ${kind.name}, ${path.join(profileDir, file)}):\n${formatProfile(summarizeCpuProfile(path.join(profileDir, file)))}`);
        }
      }
    }

    const paired = (s: Series, f: (x: LoadResult, y: LoadResult) => number) => median(s.interim.map((x, i) => f(x, s.bare[i]!)));
    const cpuRatio = (s: Series) => paired(s, (x, y) => x.cpuUs! / y.cpuUs!);
    const summarise = (s: Series) => ({
      interim: medianOf(s.interim),
      bare: medianOf(s.bare),
      cpuRatio: cpuRatio(s),
      dbCpuUs: median(s.interim.map((r) => r.dbCpuUs ?? 0)),
      ...(base
        ? { base: medianOf(s.base), baseCpuRatio: median(s.base.map((x, i) => x.cpuUs! / s.bare[i]!.cpuUs!)), afterOverBefore: median(s.interim.map((x, i) => x.cpuUs! / s.base[i]!.cpuUs!)) }
        : {}),
    });
    const summary = {
      machine: { nproc: availableParallelism(), cpu: cpus()[0]?.model, node: process.version, loadavgStart: load0, loadavgEnd: loadavg()[0] },
      settings: { ...opts, seed: state.seed, rows: state.rows },
      refresh: Object.fromEntries([...refreshSeries].map(([alg, s]) => [alg, summarise(s)])),
      userinfo: summarise(userinfoSeries),
      introspection: summarise(introspectionSeries),
      ...(second
        ? {
            instances: {
              one: medianOf(twoSeries.interim),
              two: medianOf(twoSeries.bare),
              throughputRatio: paired(twoSeries, (x, y) => y.rps / x.rps),
              cpuPerGrantRatio: paired(twoSeries, (x, y) => y.cpuUs! / x.cpuUs!),
              dbCpuUs: { one: median(twoSeries.interim.map((r) => r.dbCpuUs ?? 0)), two: median(twoSeries.bare.map((r) => r.dbCpuUs ?? 0)) },
            },
          }
        : {}),
      counts: counts && Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, { statements: c.statements, roundTrips: c.roundTrips, checkouts: c.checkouts }])),
      countsBefore: countsBefore && Object.fromEntries(Object.entries(countsBefore).map(([k, c]) => [k, { statements: c.statements, roundTrips: c.roundTrips, checkouts: c.checkouts }])),
    };
    writeFileSync(path.join(dir, 'token-path-bench.json'), JSON.stringify(summary, null, 2));
    log(`\n${availableParallelism()} cores, ${opts.dialect}, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; medians of ${opts.runs} runs × ${opts.durationSecs} s, ${opts.connections} connections`);
    const line = (name: string, s: ReturnType<typeof summarise>) => {
      log(`${name.padEnd(16)} Interim ${fmt(s.interim)}\n${''.padEnd(16)} bare    ${fmt(s.bare)}\n${''.padEnd(16)} Interim/bare CPU per request ${s.cpuRatio.toFixed(2)}×`);
      if (s.base) log(`${''.padEnd(16)} before  ${fmt(s.base)}\n${''.padEnd(16)} before/bare ${s.baseCpuRatio!.toFixed(2)}×, after/before ${s.afterOverBefore!.toFixed(2)}×`);
    };
    for (const [alg, s] of Object.entries(summary.refresh)) line(`refresh ${alg}`, s);
    line('userinfo', summary.userinfo);
    line('introspection', summary.introspection);
    if (summary.instances) {
      log(`1 instance  ${fmt(summary.instances.one)}\n2 instances ${fmt(summary.instances.two)}`);
      log(`2 / 1 instances: ${summary.instances.throughputRatio.toFixed(2)}× grants/s, ${summary.instances.cpuPerGrantRatio.toFixed(2)}× CPU per grant`);
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    for (const stop of cleanup.reverse()) await stop().catch(() => undefined);
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    if (!opts.dir && opts.baseline) rmSync(`${dir}-base`, { recursive: true, force: true });
  }
}
