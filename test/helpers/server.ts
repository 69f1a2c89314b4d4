import { randomBytes } from 'node:crypto';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { DialectName } from '../../src/db/database.ts';
import { createTestDatabase } from './databases.ts';
import { freePort } from './postgres-cluster.ts';
import { ApiClient } from './api-client.ts';

export const ADMIN_EMAIL = 'admin@example.test';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestServer {
  app: App;
  config: Config;
  url: string;
  dialect: DialectName;
  /** The environment the server was configured from, for starting more processes on the same database (startTestServer sets it). */
  env?: Record<string, string>;
  /** An API client holding the bootstrap admin token. */
  admin: ApiClient;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * A real server on a loopback port over a fresh database of the given dialect, with
 * a first admin and an admin API token. The worker does not run on a timer; tests
 * drive it after moving the clock.
 */
export async function startTestServer(dialect: DialectName, extraEnv: Record<string, string> = {}): Promise<TestServer> {
  const database = await createTestDatabase(dialect);
  // The port is free when picked but may be taken before the server binds it (the kernel hands
  // the same ephemeral ports to outgoing connections, such as other tests' PostgreSQL clients):
  // then the server is built again on another port.
  // Made once: a second build runs over what the first wrote (keys sealed with this master key).
  const adminToken = randomBytes(32).toString('base64url');
  const masterKey = randomBytes(32).toString('base64');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const env: Record<string, string> = {
      INTERIM_HOST: '127.0.0.1',
      INTERIM_PORT: String(port),
      INTERIM_BASE_URL: `http://127.0.0.1:${port}`,
      INTERIM_MASTER_KEY: masterKey,
      INTERIM_ADMIN_EMAIL: ADMIN_EMAIL,
      INTERIM_ADMIN_PASSWORD: ADMIN_PASSWORD,
      INTERIM_BOOTSTRAP_TOKEN: adminToken,
      INTERIM_RUN_WORKER: 'false',
      INTERIM_LOG_LEVEL: 'silent',
      // The documented cost setting, lowered so the suite stays fast (production: 2^17).
      INTERIM_PASSWORD_SCRYPT_N: '1024',
      ...(database.target.kind === 'postgres' ? { DATABASE_URL: database.target.url } : { INTERIM_DATA_DIR: database.target.file.replace(/\/interim\.db$/, '') }),
      // A value may name the port picked here as {port}: INTERIM_BASE_URL=http://localhost:{port}
      // for browser tests that use passkeys (browsers refuse an IP address as WebAuthn's RP id).
      ...Object.fromEntries(Object.entries(extraEnv).map(([key, value]) => [key, value.replaceAll('{port}', String(port))])),
    };
    const config = loadConfig(env);
    const app = await buildApp(config, { logger: false });
    try {
      await app.listen();
    } catch (error) {
      await app.close();
      if (attempt < 5 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      await database.drop();
      throw error;
    }
    const url = config.baseUrl;
    return {
      app,
      config,
      url,
      dialect,
      env,
      admin: new ApiClient(url).withToken(adminToken),
      adminToken,
      async close() {
        await app.close();
        await database.drop();
      },
    };
  }
}

