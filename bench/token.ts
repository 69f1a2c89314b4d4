import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { inParallel, refresh, signInWithCodeFlow, type ClientCredentials } from './code-flow.ts';
import { median, medianOf, refreshGrantLoad, userinfoLoad, type LoadOptions, type LoadResult } from './load.ts';
import { formatProfile, summarizeCpuProfile } from './profile.ts';
import { startBareProvider, startInterim, type ServerProcess } from './processes.ts';
import { runProcessesBench } from './token-processes.ts';
import { BENCH_PASSWORD, BENCH_RESOURCE, DEFAULT_SEED, readSeedState, seedTokenDatabase, type SeedState } from './seed.ts';

/**
 * The token benchmark (issue 2, section 6; DESIGN, performance budget). Interim runs as
 * `interim serve` in its own process on a seeded SQLite database; bare oidc-provider
 * runs in another. autocannon drives both from this process, alternating run by run so
 * that noise on a shared machine hits both alike, and the figures are medians.
 */
export interface TokenBenchOptions {
  /** Users signed in through the code flow; their refresh tokens seed the pool. */
  signIns: number;
  runs: number;
  durationSecs: number;
  warmupSecs: number;
  connections: number;
  /** Also profile Interim's server process during one refresh run. */
  profile: boolean;
  /** Reuse (or create) a seeded data directory instead of a temporary one. */
  dir?: string;
  /** Instead: Interim with 1 against Interim with this many server processes (bench/token-processes.ts). */
  processes?: number;
}

export const DEFAULT_TOKEN_BENCH: TokenBenchOptions = { signIns: 200, runs: 3, durationSecs: 10, warmupSecs: 3, connections: 20, profile: false };

interface Target {
  name: 'interim' | 'bare';
  server: ServerProcess;
  pool: string[];
  /** How many of the seeded users have signed in so far. */
  signedIn: number;
  refreshRuns: LoadResult[];
  userinfoRuns: LoadResult[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const ms = (v: number) => `${v.toFixed(1)} ms`;
const fmt = (r: LoadResult) =>
  `${Math.round(r.rps)}/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${r.cpuUs ? `  cpu ${Math.round(r.cpuUs)} µs/req` : ''}${r.failed ? `  FAILED ${r.failed}` : ''}`;

async function signIn(target: ServerProcess, client: ClientCredentials, users: { id: string; email: string }[], bare: boolean): Promise<string[]> {
  return inParallel(users, 4, async (user) => {
    const extra: Record<string, string> = { resource: BENCH_RESOURCE };
    if (bare) extra.login_hint = user.id;
    return (await signInWithCodeFlow(target.issuer, client, { email: user.email, password: BENCH_PASSWORD }, extra)).refresh_token;
  });
}

/** Each run loses the tokens in flight when it stops; sign in more users when the pool gets short. */
async function topUp(t: Target, client: ClientCredentials, users: { id: string; email: string }[], connections: number): Promise<void> {
  const short = 4 * connections - t.pool.length;
  if (short <= 0) return;
  const more = users.slice(t.signedIn, t.signedIn + short);
  t.signedIn += more.length;
  t.pool.push(...(await signIn(t.server, client, more, t.name === 'bare')));
}

/** Opaque access tokens for userinfo: a refresh without a resource indicator, for some pool tokens. */
async function opaqueAccessTokens(target: Target, client: ClientCredentials, count: number): Promise<string[]> {
  const taken = target.pool.splice(0, count);
  const issued = await inParallel(taken, 4, (token) => refresh(target.server.issuer, client, token));
  target.pool.push(...issued.map((t) => t.refresh_token));
  return issued.map((t) => t.access_token);
}

export async function runTokenBench(opts: TokenBenchOptions = DEFAULT_TOKEN_BENCH): Promise<void> {
  if (opts.processes) return runProcessesBench({ ...opts, processes: opts.processes });
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'interim-bench-'));
  const cleanup: (() => Promise<void>)[] = [];
  try {
    let state: SeedState | undefined = readSeedState(dir);
    if (!state) {
      log(`seeding ${DEFAULT_SEED.users} users × ${DEFAULT_SEED.membershipsPerUser} memberships in ${dir} …`);
      state = await seedTokenDatabase(dir);
      log(`seeded ${JSON.stringify(state.rows)} in ${state.seconds.toFixed(1)} s`);
    }
    const { client } = state;
    // Sign-ins spread over the whole user list; more come from the same order when a pool runs short.
    const stride = Math.max(1, Math.floor(state.users.length / opts.signIns));
    const users = [...state.users.filter((_, i) => i % stride === 0), ...state.users.filter((_, i) => i % stride !== 0)];

    const interim = await startInterim(dir);
    cleanup.push(() => interim.stop());
    const bare = await startBareProvider(client);
    cleanup.push(() => bare.stop());

    let started = performance.now();
    const targets: Target[] = [
      { name: 'interim', server: interim, pool: await signIn(interim, client, users.slice(0, opts.signIns), false), signedIn: opts.signIns, refreshRuns: [], userinfoRuns: [] },
      { name: 'bare', server: bare, pool: [], signedIn: opts.signIns, refreshRuns: [], userinfoRuns: [] },
    ];
    log(`signed in ${opts.signIns} users on Interim (code flow + PKCE, login form) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    targets[1]!.pool = await signIn(bare, client, users.slice(0, opts.signIns), true);
    log(`signed in ${opts.signIns} users on bare oidc-provider in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const load: LoadOptions = { connections: opts.connections, durationSecs: opts.durationSecs };
    const warmup: LoadOptions = { ...load, durationSecs: opts.warmupSecs };
    for (const t of targets) await refreshGrantLoad(t.server.issuer, client, t.pool, BENCH_RESOURCE, warmup);
    for (let run = 0; run < opts.runs; run++) {
      for (const t of targets) await topUp(t, client, users, opts.connections);
      // Alternate which goes first, so a drift in machine load favours neither.
      for (const t of run % 2 ? [...targets].reverse() : targets) {
        const result = await refreshGrantLoad(t.server.issuer, client, t.pool, BENCH_RESOURCE, { ...load, pid: t.server.pid });
        t.refreshRuns.push(result);
        log(`refresh  ${t.name.padEnd(7)} run ${run + 1}: ${fmt(result)}`);
      }
    }

    const accessTokens = new Map<Target, string[]>();
    for (const t of targets) {
      await topUp(t, client, users, opts.connections);
      accessTokens.set(t, await opaqueAccessTokens(t, client, Math.min(100, t.pool.length)));
    }
    for (const t of targets) await userinfoLoad(t.server.issuer, accessTokens.get(t)!, warmup);
    for (let run = 0; run < opts.runs; run++) {
      for (const t of run % 2 ? [...targets].reverse() : targets) {
        const result = await userinfoLoad(t.server.issuer, accessTokens.get(t)!, { ...load, pid: t.server.pid });
        t.userinfoRuns.push(result);
        log(`userinfo ${t.name.padEnd(7)} run ${run + 1}: ${fmt(result)}`);
      }
    }

    if (opts.profile) {
      await interim.stop();
      const profileDir = mkdtempSync(path.join(dir, 'profile-'));
      const profiled = await startInterim(dir, { cpuProfileDir: profileDir });
      cleanup.push(() => profiled.stop());
      const ours = { ...targets[0]!, server: profiled };
      await topUp(ours, client, users, opts.connections);
      await refreshGrantLoad(profiled.issuer, client, ours.pool, BENCH_RESOURCE, warmup);
      await topUp(ours, client, users, opts.connections);
      const result = await refreshGrantLoad(profiled.issuer, client, ours.pool, BENCH_RESOURCE, { ...load, pid: profiled.pid });
      log(`refresh  interim under --cpu-prof: ${fmt(result)}`);
      await profiled.stop();
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        const text = formatProfile(summarizeCpuProfile(path.join(profileDir, file)));
        log(`\nprofile of the Interim server process (start-up + refresh grants, ${path.join(profileDir, file)}):\n${text}`);
      }
    }

    const [ours, theirs] = targets.map((t) => ({ refresh: medianOf(t.refreshRuns), userinfo: medianOf(t.userinfoRuns) }));
    // Ratios are taken run by run (each Interim run against the bare run next to it), then the median.
    const paired = (a: LoadResult[], b: LoadResult[], f: (x: LoadResult, y: LoadResult) => number) => median(a.map((x, i) => f(x, b[i]!)));
    const [i, b] = targets as [Target, Target];
    const summary = {
      machine: { nproc: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      settings: { ...opts, seed: state.seed, rows: state.rows },
      interim: ours,
      bare: theirs,
      ratio: {
        refresh: paired(i.refreshRuns, b.refreshRuns, (x, y) => x.rps / y.rps),
        userinfo: paired(i.userinfoRuns, b.userinfoRuns, (x, y) => x.rps / y.rps),
        // Requests per CPU second: the same ratio, independent of how much CPU each server got.
        refreshPerCpu: paired(i.refreshRuns, b.refreshRuns, (x, y) => y.cpuUs! / x.cpuUs!),
        userinfoPerCpu: paired(i.userinfoRuns, b.userinfoRuns, (x, y) => y.cpuUs! / x.cpuUs!),
      },
    };
    writeFileSync(path.join(dir, 'token-bench.json'), JSON.stringify(summary, null, 2));
    log(`\n${availableParallelism()} cores, Node ${process.version}; medians of ${opts.runs} runs × ${opts.durationSecs} s, ${opts.connections} connections`);
    log(`refresh grants  Interim ${fmt(ours!.refresh)}`);
    log(`                bare    ${fmt(theirs!.refresh)}`);
    log(`                ratio ${summary.ratio.refresh.toFixed(2)}× (per CPU second ${summary.ratio.refreshPerCpu.toFixed(2)}×)`);
    log(`userinfo        Interim ${fmt(ours!.userinfo)}`);
    log(`                bare    ${fmt(theirs!.userinfo)}`);
    log(`                ratio ${summary.ratio.userinfo.toFixed(2)}× (per CPU second ${summary.ratio.userinfoPerCpu.toFixed(2)}×)`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    for (const stop of cleanup.reverse()) await stop();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}
