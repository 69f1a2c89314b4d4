import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DialectName } from '../src/db/database.ts';
import { DEFAULT_EXPIRY_BENCH, runExpiryBench } from './expiry.ts';
import type { Mode } from './fleet.ts';
import { DEFAULT_EXPIRY_BACKLOG_BENCH, runExpiryBacklogBench } from './expiry-backlog.ts';
import { DEFAULT_SIGNALS_BENCH, runSignalsBench } from './signals.ts';
import { seedTokenDatabase } from './seed.ts';
import { DEFAULT_SUBMISSIONS_BENCH, runSubmissionsBench } from './submissions.ts';
import { DEFAULT_TOKEN_BENCH, runTokenBench } from './token.ts';
import { DEFAULT_TOKEN_PATH_BENCH, runTokenPathBench, type Alg } from './token-path.ts';

const USAGE = `usage: npm run bench -- <token|token-path|expiry|expiry-backlog|submissions|signals|seed> [options]

  token    refresh-token grants/s and userinfo/s against \`interim serve\` (separate process,
           seeded SQLite) and against bare oidc-provider, medians of several runs
             --runs N (${DEFAULT_TOKEN_BENCH.runs})  --duration SECS (${DEFAULT_TOKEN_BENCH.durationSecs})  --connections N (${DEFAULT_TOKEN_BENCH.connections})
             --sign-ins N (${DEFAULT_TOKEN_BENCH.signIns})  --profile (CPU profile of one refresh run)  --dir DIR (keep the data)
             --processes N: instead, refresh grants with INTERIM_PROCESSES=1 against N, alternating
  token-path
           the token path against bare oidc-provider at the same algorithm (issue 11, targets 1–3):
           server CPU per refresh grant (EdDSA, RS256), userinfo and introspection, and SQL statements,
           round trips and pool checkouts per request
             --dialect sqlite|postgres (${DEFAULT_TOKEN_PATH_BENCH.dialect})  --alg EdDSA,RS256  --instances 1|2 (1; 2 adds interleaved
             runs over two instances on one database)  --no-count  --profile  --runs N (${DEFAULT_TOKEN_PATH_BENCH.runs})
             --duration SECS (${DEFAULT_TOKEN_PATH_BENCH.durationSecs})  --connections N  --sign-ins N (${DEFAULT_TOKEN_PATH_BENCH.signIns})  --dir DIR (SQLite: reuse the seed)
             --baseline DIR (another checkout of Interim, run interleaved as "before"; on PostgreSQL on the same
             database, so only with the same migrations)
  expiry   time expireDueGrants() over N approved grants that all end at one instant, in 1 or
           more instances (processes) sharing the work on one database
             --grants N (${DEFAULT_EXPIRY_BENCH.grants})  --dialect sqlite|postgres|both (sqlite)
             --instances LIST (1; e.g. 1,2: PostgreSQL only, SQLite always runs 1)  --runs N (1)
             --against DIR (another checkout to alternate with, run for run: before/after)  --profile
             --token-load: each instance serves refresh grants while it expires the burst (the worker
             inside the serving process); token p50/p99/max during the burst against the same load
             without one, in the same run (order flipping), and the longest event-loop stall
             --connections N (10, split over the instances)  --duration SECS (3: the window without a burst)
  expiry-backlog
           lag from expires_at to the expired event while the worker has a delivery backlog
           to a slow receiver (SQLite, wall clock, the worker on its default schedules)
             --requests N (${DEFAULT_EXPIRY_BACKLOG_BENCH.requests})  --grants N (${DEFAULT_EXPIRY_BACKLOG_BENCH.grants})  --delay MS (${DEFAULT_EXPIRY_BACKLOG_BENCH.receiverDelayMs})
  submissions
           auto-approved submissions/s through the HTTP API (concurrent requesters, each with an
           API token), on 1 or more instances (processes) on one database
             --dialect sqlite|postgres|both (sqlite)  --instances LIST (1; PostgreSQL only)
             --runs N (${DEFAULT_SUBMISSIONS_BENCH.runs})  --duration SECS (${DEFAULT_SUBMISSIONS_BENCH.durationSecs})  --connections N (${DEFAULT_SUBMISSIONS_BENCH.connections})
             --requesters N (${DEFAULT_SUBMISSIONS_BENCH.requesters})  --against DIR  --profile (CPU profile of each instance, first run)
  signals  time from the end of access to what applications hear (issue 13): N grants ending at
           one instant, then M revocations; the first refused refresh grant, the SET of an SSF push
           stream and the back-channel logout token, at a loopback receiver (the worker on its defaults)
             --grants N (${DEFAULT_SIGNALS_BENCH.grants})  --revokes N (${DEFAULT_SIGNALS_BENCH.revokes})  --token-users N (${DEFAULT_SIGNALS_BENCH.tokenUsers})
             --dialect sqlite|postgres|both (sqlite)  --runs N (${DEFAULT_SIGNALS_BENCH.runs})
  seed     only build the token benchmark's database   --dir DIR
`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    'sign-ins': { type: 'string' },
    profile: { type: 'boolean' },
    processes: { type: 'string' },
    dir: { type: 'string' },
    grants: { type: 'string' },
    dialect: { type: 'string' },
    alg: { type: 'string' },
    instances: { type: 'string' },
    'no-count': { type: 'boolean' },
    'token-load': { type: 'boolean' },
    baseline: { type: 'string' },
    requests: { type: 'string' },
    requesters: { type: 'string' },
    revokes: { type: 'string' },
    'token-users': { type: 'string' },
    delay: { type: 'string' },
    against: { type: 'string' },
    help: { type: 'boolean' },
  },
});

/** Each dialect with each instance count asked for; SQLite has one writer, so it runs with 1 only. */
function modesOf(dialects: readonly DialectName[], instances = '1'): Mode[] {
  const counts = instances.split(',').map((n) => Number.parseInt(n, 10));
  if (counts.some((n) => !(n >= 1))) throw new Error('--instances must be a list of counts, such as 1,2');
  return dialects.flatMap((dialect): Mode[] => (dialect === 'sqlite' ? [{ dialect, instances: 1 }] : counts.map((n) => ({ dialect, instances: n }))));
}

const int = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number.parseInt(v, 10));

async function main(): Promise<void> {
  const [what] = positionals;
  if (values.help || !what) return void process.stdout.write(USAGE);
  if (what === 'token') {
    await runTokenBench({
      runs: int(values.runs, DEFAULT_TOKEN_BENCH.runs),
      durationSecs: int(values.duration, DEFAULT_TOKEN_BENCH.durationSecs),
      warmupSecs: DEFAULT_TOKEN_BENCH.warmupSecs,
      connections: int(values.connections, DEFAULT_TOKEN_BENCH.connections),
      signIns: int(values['sign-ins'], DEFAULT_TOKEN_BENCH.signIns),
      profile: values.profile ?? false,
      dir: values.dir,
      ...(values.processes ? { processes: int(values.processes, 2) } : {}),
    });
  } else if (what === 'token-path') {
    const d = DEFAULT_TOKEN_PATH_BENCH;
    const dialect = values.dialect ?? d.dialect;
    if (dialect !== 'sqlite' && dialect !== 'postgres') throw new Error('--dialect must be sqlite or postgres');
    const algs = (values.alg?.split(',') ?? d.algs) as Alg[];
    if (algs.some((a) => a !== 'EdDSA' && a !== 'RS256')) throw new Error('--alg takes EdDSA and/or RS256');
    await runTokenPathBench({
      dialect,
      algs,
      twoInstances: values.instances === '2',
      runs: int(values.runs, d.runs),
      durationSecs: int(values.duration, d.durationSecs),
      warmupSecs: d.warmupSecs,
      connections: int(values.connections, d.connections),
      signIns: int(values['sign-ins'], d.signIns),
      count: !values['no-count'],
      profile: values.profile ?? false,
      dir: values.dir,
      baseline: values.baseline,
    });
  } else if (what === 'expiry') {
    const dialect = values.dialect ?? 'sqlite';
    if (!['sqlite', 'postgres', 'both'].includes(dialect)) throw new Error('--dialect must be sqlite, postgres or both');
    const dialects: DialectName[] = dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as DialectName];
    await runExpiryBench({
      grants: int(values.grants, DEFAULT_EXPIRY_BENCH.grants),
      modes: modesOf(dialects, values.instances),
      runs: int(values.runs, 1),
      against: values.against,
      profile: values.profile ?? false,
      ...(values['token-load'] ? { tokenLoad: { connections: int(values.connections, 10), quietSecs: int(values.duration, 3) } } : {}),
    });
  } else if (what === 'submissions') {
    const d = DEFAULT_SUBMISSIONS_BENCH;
    const dialect = values.dialect ?? 'sqlite';
    if (!['sqlite', 'postgres', 'both'].includes(dialect)) throw new Error('--dialect must be sqlite, postgres or both');
    await runSubmissionsBench({
      modes: modesOf(dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as DialectName], values.instances),
      runs: int(values.runs, d.runs),
      durationSecs: int(values.duration, d.durationSecs),
      connections: int(values.connections, d.connections),
      requesters: int(values.requesters, d.requesters),
      against: values.against,
      profile: values.profile ?? false,
    });
  } else if (what === 'expiry-backlog') {
    const d = DEFAULT_EXPIRY_BACKLOG_BENCH;
    await runExpiryBacklogBench({
      requests: int(values.requests, d.requests),
      grants: int(values.grants, d.grants),
      receiverDelayMs: int(values.delay, d.receiverDelayMs),
      spacingMs: d.spacingMs,
    });
  } else if (what === 'signals') {
    const d = DEFAULT_SIGNALS_BENCH;
    const dialect = values.dialect ?? 'sqlite';
    if (!['sqlite', 'postgres', 'both'].includes(dialect)) throw new Error('--dialect must be sqlite, postgres or both');
    const result = await runSignalsBench({
      grants: int(values.grants, d.grants),
      revokes: int(values.revokes, d.revokes),
      tokenUsers: int(values['token-users'], d.tokenUsers),
      dialects: dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as DialectName],
      runs: int(values.runs, d.runs),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else if (what === 'seed') {
    const dir = values.dir ?? mkdtempSync(path.join(tmpdir(), 'interim-bench-'));
    const state = await seedTokenDatabase(dir);
    process.stdout.write(`seeded ${dir}: ${JSON.stringify(state.rows)} in ${state.seconds.toFixed(1)} s\n`);
  } else {
    process.stderr.write(USAGE);
    process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
