import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DatabaseTarget } from '../../src/db/database.ts';
import { freePort } from './postgres-cluster.ts';
import type { TestServer } from './server.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment an operator would set for a database: DATABASE_URL, or a data directory. */
export function databaseEnv(target: DatabaseTarget): Record<string, string> {
  return target.kind === 'postgres' ? { DATABASE_URL: target.url } : { INTERIM_DATA_DIR: target.file.replace(/\/interim\.db$/, '') };
}

/**
 * The environment of a fresh instance on `port` over `target`: its first admin is
 * admin@example.test with the API token `adminToken`, and passwords hash at the test cost.
 */
export function instanceEnv(target: DatabaseTarget, port: number, adminToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    INTERIM_PORT: String(port),
    INTERIM_BASE_URL: `http://127.0.0.1:${port}`,
    INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
    INTERIM_ADMIN_EMAIL: 'admin@example.test',
    INTERIM_ADMIN_PASSWORD: 'a long enough password',
    INTERIM_BOOTSTRAP_TOKEN: adminToken,
    INTERIM_LOG_LEVEL: 'warn',
    INTERIM_PASSWORD_SCRYPT_N: '1024',
    ...databaseEnv(target),
    ...extra,
  };
}

function spawnInterim(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', ...args], {
    cwd: repoRoot,
    // One server process unless a test asks for more (INTERIM_PROCESSES): most tests are about one process's behaviour.
    env: { PATH: process.env.PATH ?? '', INTERIM_LOG_LEVEL: 'silent', INTERIM_PROCESSES: '1', ...env },
  });
}

/** Runs `interim …` to its end, as an operator would from a shell. */
export function runInterim(args: string[], env: Record<string, string>): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawnInterim(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `interim serve` (or `interim worker`) running as a real, separate process. */
export interface RunningInterim {
  /** INTERIM_BASE_URL of its environment. */
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Sends SIGTERM and waits for the exit: a clean shutdown. */
  stop(): Promise<number | null>;
  /** Sends SIGKILL and waits until it is gone: a crash, not a shutdown. */
  crash(): Promise<void>;
}

/**
 * Starts `interim serve` and resolves once stderr says it listens (printed after the port
 * is bound and the first admin, with its bootstrap token, exists), or rejects with what
 * it printed when it exits.
 */
export function startInterim(env: Record<string, string>, timeoutMs = 60_000): Promise<RunningInterim> {
  return startUntil('serve', /Interim is listening/, env, timeoutMs);
}

/** Starts `interim worker` (no HTTP) and resolves once stderr says it runs. */
export function startInterimWorker(env: Record<string, string>, timeoutMs = 60_000): Promise<RunningInterim> {
  return startUntil('worker', /Interim worker running/, env, timeoutMs);
}

function startUntil(command: 'serve' | 'worker', ready: RegExp, env: Record<string, string>, timeoutMs: number): Promise<RunningInterim> {
  return new Promise((resolve, reject) => {
    const child = spawnInterim([command], env);
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`interim ${command} did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    const endWith = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    child.stdout!.resume();
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
      if (!ready.test(stderr)) return;
      clearTimeout(timer);
      resolve({
        url: env.INTERIM_BASE_URL ?? '',
        child,
        stderr: () => stderr,
        stop: () => endWith('SIGTERM'),
        crash: async () => void (await endWith('SIGKILL')),
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`interim ${command} exited with ${code}:\n${stderr}`));
    });
  });
}

/**
 * A second instance over the test server's database (same master key, same SQLite file
 * or PostgreSQL database) on its own port. Concurrency tests split a burst between it
 * and the in-process server: on SQLite one process's connection would serialise
 * everything, so a race needs a second process.
 */
export async function startSecondProcess(server: TestServer, env: Record<string, string> = {}): Promise<RunningInterim> {
  if (!server.env) throw new Error('startSecondProcess needs a server from startTestServer (it copies its environment)');
  const port = await freePort();
  return startInterim({ ...server.env, INTERIM_PORT: String(port), INTERIM_BASE_URL: `http://127.0.0.1:${port}`, INTERIM_LOG_LEVEL: 'warn', ...env });
}

/** Polls in real time until `probe` gives a value. */
export async function waitForValue<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
