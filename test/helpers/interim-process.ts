import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DatabaseTarget } from '../../src/db/database.ts';

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

function spawnInterim(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', INTERIM_LOG_LEVEL: 'silent', ...env },
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

export interface RunningInterim {
  stderr(): string;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<number | null>;
}

/** Starts `interim serve` and resolves once stderr says it listens (or rejects with what it printed when it exits). */
export function startInterim(env: Record<string, string>, timeoutMs = 60_000): Promise<RunningInterim> {
  return new Promise((resolve, reject) => {
    const child = spawnInterim(['serve'], env);
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`interim serve did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stdout!.resume();
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!/Interim is listening/.test(stderr)) return;
      clearTimeout(timer);
      resolve({
        stderr: () => stderr,
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`interim serve exited with ${code}:\n${stderr}`));
    });
  });
}
