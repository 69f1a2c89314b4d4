import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './postgres-cluster.ts';
import type { TestServer } from './server.ts';

export interface SecondProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `interim serve` as a separate process over the test server's database, as a
 * second instance would run beside it: two processes, two connections, so what must
 * hold across instances (throttles, last-of-kind rules) is tested for real, SQLite
 * included.
 */
export async function startSecondProcess(server: TestServer, env: Record<string, string> = {}): Promise<SecondProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { config } = server;
  const child: ChildProcess = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      INTERIM_HOST: '127.0.0.1',
      INTERIM_PORT: String(port),
      INTERIM_BASE_URL: url,
      INTERIM_MASTER_KEY: config.masterKey.toString('base64'),
      INTERIM_RUN_WORKER: 'false',
      INTERIM_LOG_LEVEL: 'warn',
      INTERIM_PASSWORD_SCRYPT_N: String(config.passwords.scryptN),
      ...(config.database.kind === 'postgres' ? { DATABASE_URL: config.database.url } : { INTERIM_DATA_DIR: config.dataDir }),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const until = Date.now() + 30_000;
  for (;;) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > until || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the second server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
