import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { inParallel, signInWithCodeFlow, type ClientCredentials } from './code-flow.ts';
import { median, refreshGrantLoad, type LoadResult } from './load.ts';
import { cpuSeconds, startInterim, type ServerProcess } from './processes.ts';
import { BENCH_PASSWORD, BENCH_RESOURCE, DEFAULT_SEED, readSeedState, seedTokenDatabase, type SeedState } from './seed.ts';

/**
 * `npm run bench -- token --processes N` (issue 11, target 5): refresh grants against
 * `interim serve` with INTERIM_PROCESSES=1 and with INTERIM_PROCESSES=N, both on the
 * same seeded SQLite file, alternating run by run. Server CPU is summed over the whole
 * process tree (the primary, which accepts the connections, and every server process),
 * from /proc; the load generator's own CPU (this process) is reported beside it, since
 * it shares the cores.
 */
export interface ProcessesBenchOptions {
  processes: number;
  runs: number;
  durationSecs: number;
  warmupSecs: number;
  connections: number;
  dir?: string;
}

interface Run extends LoadResult {
  /** Server CPU per grant (µs), all processes of the server. */
  serverCpuUs: number;
  /** Cores the server kept busy over the run. */
  serverCores: number;
  /** This process's CPU per grant (µs): autocannon. */
  loadGenCpuUs: number;
  loadAvg: number;
}

interface Target {
  processes: number;
  server: ServerProcess;
  pool: string[];
  runs: Run[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** CPU seconds of a process and its live children (a cluster's primary and its server processes). */
export function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    // no children file: the process alone
  }
  return cpuSeconds(pid) + children.reduce((sum, child) => sum + cpuSeconds(child), 0);
}

async function measured(target: Target, client: ClientCredentials, opts: ProcessesBenchOptions): Promise<Run> {
  const serverBefore = treeCpuSeconds(target.server.pid);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const result = await refreshGrantLoad(target.server.issuer, client, target.pool, BENCH_RESOURCE, { connections: opts.connections, durationSecs: opts.durationSecs });
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = treeCpuSeconds(target.server.pid) - serverBefore;
  const own = process.cpuUsage(ownBefore);
  return {
    ...result,
    serverCpuUs: (serverCpu * 1e6) / Math.max(1, result.ok),
    serverCores: serverCpu / seconds,
    loadGenCpuUs: (own.user + own.system) / Math.max(1, result.ok),
    loadAvg: loadavg()[0]!,
  };
}

const fmt = (r: Run) =>
  `${Math.round(r.rps)}/s  p99 ${r.p99.toFixed(1)} ms  server ${Math.round(r.serverCpuUs)} µs/grant (${r.serverCores.toFixed(2)} cores)  load generator ${Math.round(r.loadGenCpuUs)} µs/grant  load ${r.loadAvg.toFixed(1)}${r.failed ? `  FAILED ${r.failed}` : ''}`;

export async function runProcessesBench(opts: ProcessesBenchOptions): Promise<void> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), 'interim-bench-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    let seeded: SeedState | undefined = readSeedState(dir);
    if (!seeded) {
      log(`seeding ${DEFAULT_SEED.users} users in ${dir} …`);
      seeded = await seedTokenDatabase(dir);
    }
    const state = seeded;
    const { client } = state;
    let nextUser = 0;
    const signIn = (target: Target, count: number) =>
      inParallel(state.users.slice(nextUser, (nextUser += count)), 4, async (user) => {
        const tokens = await signInWithCodeFlow(target.server.issuer, client, { email: user.email, password: BENCH_PASSWORD }, { resource: BENCH_RESOURCE });
        return tokens.refresh_token;
      });
    const topUp = async (t: Target) => {
      const short = 3 * opts.connections - t.pool.length;
      if (short > 0) t.pool.push(...(await signIn(t, short)));
    };

    const targets: Target[] = [];
    for (const processes of [1, opts.processes]) {
      const server = await startInterim(dir, { processes });
      stops.push(() => server.stop());
      targets.push({ processes, server, pool: [], runs: [] });
    }
    for (const t of targets) await topUp(t);
    for (const t of targets) {
      await refreshGrantLoad(t.server.issuer, client, t.pool, BENCH_RESOURCE, { connections: opts.connections, durationSecs: opts.warmupSecs });
      await topUp(t);
    }
    for (let run = 0; run < opts.runs; run++) {
      for (const t of run % 2 ? [...targets].reverse() : targets) {
        await topUp(t);
        const result = await measured(t, client, opts);
        t.runs.push(result);
        log(`refresh  ${String(t.processes).padStart(2)} process${t.processes === 1 ? ' ' : 'es'} run ${run + 1}: ${fmt(result)}`);
      }
    }

    const [one, many] = targets as [Target, Target];
    const paired = (f: (a: Run, b: Run) => number) => median(one.runs.map((a, i) => f(a, many.runs[i]!)));
    const summarise = (t: Target) => ({
      processes: t.processes,
      grantsPerSec: median(t.runs.map((r) => r.rps)),
      p99Ms: median(t.runs.map((r) => r.p99)),
      serverCpuUsPerGrant: median(t.runs.map((r) => r.serverCpuUs)),
      serverCores: median(t.runs.map((r) => r.serverCores)),
      loadGenCpuUsPerGrant: median(t.runs.map((r) => r.loadGenCpuUs)),
      failed: t.runs.reduce((n, r) => n + r.failed, 0),
    });
    const summary = {
      machine: { nproc: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      settings: { ...opts, database: 'sqlite' },
      one: summarise(one),
      many: summarise(many),
      ratio: {
        grantsPerSec: paired((a, b) => b.rps / a.rps),
        serverCpuPerGrant: paired((a, b) => b.serverCpuUs / a.serverCpuUs),
      },
    };
    writeFileSync(path.join(dir, 'token-processes-bench.json'), JSON.stringify(summary, null, 2));
    log(`\n${availableParallelism()} cores, Node ${process.version}; medians of ${opts.runs} runs × ${opts.durationSecs} s, ${opts.connections} connections, SQLite`);
    for (const s of [summary.one, summary.many]) {
      log(`${String(s.processes).padStart(2)} process(es): ${Math.round(s.grantsPerSec)} grants/s, p99 ${s.p99Ms.toFixed(1)} ms, server ${Math.round(s.serverCpuUsPerGrant)} µs/grant on ${s.serverCores.toFixed(2)} cores, load generator ${Math.round(s.loadGenCpuUsPerGrant)} µs/grant`);
    }
    log(`${opts.processes} processes / 1: grants/s ${summary.ratio.grantsPerSec.toFixed(2)}×, server CPU per grant ${summary.ratio.serverCpuPerGrant.toFixed(2)}×`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}
