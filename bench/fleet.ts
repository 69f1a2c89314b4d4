import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { DialectName } from '../src/db/database.ts';
import type { PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { ROOT } from './processes.ts';

/**
 * Several Interim instances on one database, each in its own process (bench/instance.ts),
 * for the expiry and submission benchmarks. A database is seeded once and copied for every
 * run (a PostgreSQL template database, a copy of the SQLite data directory), so runs
 * start from the same state and can alternate between two builds (`--against DIR`: another
 * checkout's bench/instance.ts and src/, on the same schema).
 */
export interface Mode {
  dialect: DialectName;
  instances: number;
}
export const modeName = (m: Mode) => `${m.dialect}×${m.instances}`;

export interface BenchDatabase {
  /** The configuration every instance gets (as environment variables). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export interface SeededDatabase {
  dialect: DialectName;
  /** A fresh copy of the seeded database, for one run. */
  copy(tag: string): Promise<BenchDatabase>;
  drop(): Promise<void>;
}

/** The bootstrap admin's API token is in the env (INTERIM_BOOTSTRAP_TOKEN). */
export function benchEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
    INTERIM_ADMIN_EMAIL: 'bench-admin@bench.test',
    INTERIM_ADMIN_PASSWORD: 'benchmark admin password',
    INTERIM_BOOTSTRAP_TOKEN: randomBytes(32).toString('base64url'),
    INTERIM_RUN_WORKER: 'false',
    INTERIM_LOG_LEVEL: 'silent',
    ...extra,
  };
}

async function adminQuery(url: string, statements: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (const s of statements) await admin.query(s);
  } finally {
    await admin.end();
  }
}

/**
 * Builds a database with `seed` run on an in-process app (bootstrapped), then closes it; the
 * result is copied for each run.
 */
export async function seedDatabase(
  dialect: DialectName,
  env: Record<string, string>,
  cluster: () => Promise<PostgresCluster>,
  seed: (app: App) => Promise<void>,
  clock?: { now(): number },
): Promise<SeededDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'interim-bench-seed-'));
    const app = await buildApp(loadConfig({ ...env, INTERIM_DATA_DIR: dir }), { clock, logger: false });
    try {
      await app.bootstrap();
      await seed(app);
    } finally {
      await app.close();
    }
    return {
      dialect,
      async copy(tag) {
        const copy = `${dir}-${tag}`;
        cpSync(dir, copy, { recursive: true });
        return { env: { ...env, INTERIM_DATA_DIR: copy }, drop: async () => rmSync(copy, { recursive: true, force: true }) };
      },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = (await cluster()).url;
  const urlOf = (name: string) => adminUrl.replace(/\/postgres$/, `/${name}`);
  const name = `bench_seed_${process.pid}`;
  await adminQuery(adminUrl, [`drop database if exists ${name}`, `create database ${name}`]);
  const app = await buildApp(loadConfig({ ...env, DATABASE_URL: urlOf(name) }), { clock, logger: false });
  try {
    await app.bootstrap();
    await seed(app);
  } finally {
    await app.close();
  }
  return {
    dialect,
    async copy(tag) {
      const copy = `${name}_${tag.replace(/[^a-z0-9_]/gi, '_')}`;
      await adminQuery(adminUrl, [`drop database if exists ${copy}`, `create database ${copy} template ${name}`]);
      return { env: { ...env, DATABASE_URL: urlOf(copy) }, drop: () => adminQuery(adminUrl, [`drop database ${copy} with (force)`]) };
    },
    drop: () => adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]),
  };
}

export interface Instance {
  child: ChildProcess;
  /** Resolves with the instance's next message. */
  next<T>(): Promise<T>;
  send(message: object): void;
  stop(): Promise<void>;
}

/** Starts bench/instance.ts (of `root`, this checkout by default) in `mode`, and waits for it to be ready. */
export async function startInstance(mode: 'serve' | 'expire' | 'serve-expire', env: Record<string, string>, root = ROOT, nodeFlags: string[] = []): Promise<Instance & { ready: { address?: string } }> {
  const child = fork(path.join(root, 'bench/instance.ts'), [], {
    cwd: root,
    env: { ...process.env, ...env, BENCH_INSTANCE: mode },
    execArgv: ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', ...nodeFlags],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-10_000);
  });
  const queue: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  child.on('message', (m) => (waiting.length ? waiting.shift()!(m) : queue.push(m)));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`instance exited with ${code}: ${stderr}`))));
  exited.catch(() => undefined);
  const instance: Instance = {
    child,
    next: <T>() => Promise.race([queue.length ? Promise.resolve(queue.shift() as T) : new Promise<T>((resolve) => waiting.push(resolve as (m: unknown) => void)), exited]),
    send: (m) => child.send(m),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  const ready = await instance.next<{ address?: string }>();
  return { ...instance, ready };
}

export const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
