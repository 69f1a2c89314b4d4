import { spawn } from 'node:child_process';
import { freePort } from './postgres-cluster.ts';
import type { TestServer } from './server.ts';

/**
 * `interim serve` as a real separate process over the test server's database (same
 * master key, same SQLite file or PostgreSQL database), on its own port. Concurrency
 * tests split a burst between it and the in-process server: on SQLite one process's
 * connection would serialise everything, so a race needs a second process.
 */
export async function startServerProcess(server: TestServer, env: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  if (!server.env) throw new Error('startServerProcess needs a server from startTestServer (it copies its environment)');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    env: { ...process.env, ...server.env, INTERIM_PORT: String(port), INTERIM_BASE_URL: url, INTERIM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server process exited: ${stderr}`);
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > until) {
      child.kill();
      throw new Error(`the server process did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
