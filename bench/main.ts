import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_EXPIRY_BENCH, runExpiryBench } from './expiry.ts';
import { DEFAULT_EXPIRY_BACKLOG_BENCH, runExpiryBacklogBench } from './expiry-backlog.ts';
import { seedTokenDatabase } from './seed.ts';
import { DEFAULT_TOKEN_BENCH, runTokenBench } from './token.ts';

const USAGE = `usage: npm run bench -- <token|expiry|expiry-backlog|seed> [options]

  token    refresh-token grants/s and userinfo/s against \`interim serve\` (separate process,
           seeded SQLite) and against bare oidc-provider, medians of several runs
             --runs N (${DEFAULT_TOKEN_BENCH.runs})  --duration SECS (${DEFAULT_TOKEN_BENCH.durationSecs})  --connections N (${DEFAULT_TOKEN_BENCH.connections})
             --sign-ins N (${DEFAULT_TOKEN_BENCH.signIns})  --profile (CPU profile of one refresh run)  --dir DIR (keep the data)
             --processes N: instead, refresh grants with INTERIM_PROCESSES=1 against N, alternating
  expiry   time expireDueGrants() over N approved grants that all end at one instant
             --grants N (${DEFAULT_EXPIRY_BENCH.grants})  --dialect sqlite|postgres|both (sqlite)
  expiry-backlog
           lag from expires_at to the expired event while the worker has a delivery backlog
           to a slow receiver (SQLite, wall clock, the worker on its default schedules)
             --requests N (${DEFAULT_EXPIRY_BACKLOG_BENCH.requests})  --grants N (${DEFAULT_EXPIRY_BACKLOG_BENCH.grants})  --delay MS (${DEFAULT_EXPIRY_BACKLOG_BENCH.receiverDelayMs})
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
    requests: { type: 'string' },
    delay: { type: 'string' },
    help: { type: 'boolean' },
  },
});

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
  } else if (what === 'expiry') {
    const dialect = values.dialect ?? 'sqlite';
    if (!['sqlite', 'postgres', 'both'].includes(dialect)) throw new Error('--dialect must be sqlite, postgres or both');
    await runExpiryBench({ grants: int(values.grants, DEFAULT_EXPIRY_BENCH.grants), dialects: dialect === 'both' ? ['sqlite', 'postgres'] : [dialect as 'sqlite' | 'postgres'] });
  } else if (what === 'expiry-backlog') {
    const d = DEFAULT_EXPIRY_BACKLOG_BENCH;
    await runExpiryBacklogBench({
      requests: int(values.requests, d.requests),
      grants: int(values.grants, d.grants),
      receiverDelayMs: int(values.delay, d.receiverDelayMs),
      spacingMs: d.spacingMs,
    });
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
