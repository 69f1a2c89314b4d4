import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/postgres-cluster.ts';

/** Servers under test run in their own process, so the load generator never shares their event loop. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE_FLAGS = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'];

export interface ServerProcess {
  /** Base URL of the OIDC issuer (…/oidc for Interim). */
  issuer: string;
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user + system) a process has used so far, from /proc. CPU per request is
 * steadier than requests per second on a shared machine: it does not depend on how much
 * of a core the server was given.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function waitUntilServing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not come up at ${url}:\n${output()}`);
}

async function startProcess(script: string, args: string[], env: Record<string, string>, readyUrl: string, extraFlags: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...extraFlags, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  await waitUntilServing(readyUrl, child, () => stderr);
  return child;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/**
 * `interim serve` on a seeded SQLite data directory: worker off, log level warn.
 * With cpuProfileDir, V8 writes a .cpuprofile there when the process exits.
 */
export async function startInterim(
  dataDir: string,
  opts: { cpuProfileDir?: string; processes?: number; env?: Record<string, string>; flags?: string[]; /** Another checkout to run (a before/after comparison). */ root?: string } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const flags = [...(opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : []), ...(opts.flags ?? [])];
  const child = await startProcess(
    path.join(opts.root ?? ROOT, 'src/main.ts'),
    ['serve'],
    {
      INTERIM_DATA_DIR: dataDir,
      INTERIM_HOST: '127.0.0.1',
      INTERIM_PORT: String(port),
      INTERIM_BASE_URL: origin,
      INTERIM_RUN_WORKER: 'false',
      // One server process unless asked (bench -- token --processes N); pid is then the cluster's primary.
      INTERIM_PROCESSES: String(opts.processes ?? 1),
      INTERIM_LOG_LEVEL: 'warn',
      INTERIM_ADMIN_EMAIL: 'bench-admin@bench.test',
      INTERIM_ADMIN_PASSWORD: 'benchmark admin password',
      ...opts.env,
    },
    `${origin}/healthz`,
    flags,
  );
  return { issuer: `${origin}/oidc`, origin, pid: child.pid!, stop: stopper(child) };
}

/** bench/bare-provider.ts: oidc-provider alone, with its in-memory adapter. */
export async function startBareProvider(client: { id: string; secret: string; redirectUri: string }, alg: 'EdDSA' | 'RS256' = 'EdDSA'): Promise<ServerProcess> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = await startProcess(
    path.join(ROOT, 'bench/bare-provider.ts'),
    [],
    { BARE_PORT: String(port), BARE_CLIENT: JSON.stringify(client), BARE_ALG: alg },
    `${origin}/.well-known/openid-configuration`,
    [],
  );
  return { issuer: origin, origin, pid: child.pid!, stop: stopper(child) };
}
