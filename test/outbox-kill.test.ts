import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/modules/events/webhook-signature.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `interim serve` as a real separate process and waits until it is ready. */
async function startProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitFor(`the server to start (${stderr})`, async () => ((await fetch(`${env.INTERIM_BASE_URL}/readyz`)).ok ? true : undefined));
  return child;
}

for (const dialect of dialectsUnderTest()) {
  describe(`a crash between commit and delivery [${dialect}]`, () => {
    it('loses nothing: a new process delivers what the killed one committed', async () => {
      const database = await createTestDatabase(dialect);
      const port = await freePort();
      const token = randomBytes(32).toString('base64url');
      const env: Record<string, string> = {
        INTERIM_PORT: String(port),
        INTERIM_BASE_URL: `http://127.0.0.1:${port}`,
        INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
        INTERIM_ADMIN_EMAIL: 'admin@example.test',
        INTERIM_ADMIN_PASSWORD: 'a long enough password',
        INTERIM_BOOTSTRAP_TOKEN: token,
        INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true',
        INTERIM_LOG_LEVEL: 'warn',
        INTERIM_RUN_WORKER: 'false',
        INTERIM_PASSWORD_SCRYPT_N: '1024',
        ...(database.target.kind === 'postgres' ? { DATABASE_URL: database.target.url } : { INTERIM_DATA_DIR: database.target.file.replace(/\/interim\.db$/, '') }),
      };
      let child = await startProcess(env);
      try {
        const admin = new ApiClient(env.INTERIM_BASE_URL!).withToken(token);
        const user = await admin.post('/api/v1/users', { email: 'kill@example.test', name: 'K', password: 'a long enough password', must_change_password: false });
        const holder = await admin.post('/api/v1/groups', { name: 'holders' });
        const app = await admin.post('/api/v1/applications', { name: 'app', redirect_uris: ['https://app.example.test/cb'] });
        const mapping = await admin.post('/api/v1/mappings', { app_id: app.body.id, claim: 'role', value: 'x', group_ids: [holder.body.id] });
        const template = await admin.post('/api/v1/access-request-templates', {
          name: 'kill test',
          app_id: app.body.id,
          mapping_ids: [mapping.body.id],
          allowed_durations: [60],
          approval: 'open',
          require_justification: false,
        });
        const action = await admin.post('/api/v1/event-actions', {
          name: 'hook',
          event_types: ['access_request.submitted'],
          kind: 'webhook',
          config: { url: `${receiver.url}/kill-${dialect}` },
        });
        expect(action.status, JSON.stringify(action.body)).toBe(201);
        const requester = new ApiClient(env.INTERIM_BASE_URL!);
        await requester.signIn('kill@example.test', 'a long enough password');
        const submitted = await requester.post('/api/v1/access-requests', { template_id: template.body.id, duration_mins: 60 });
        expect(submitted.status).toBe(201);
        expect(user.status).toBe(201);

        // Committed, not delivered: the process dies hard before its worker could run.
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        expect(receiver.requests.filter((r) => r.path === `/kill-${dialect}`)).toHaveLength(0);

        child = await startProcess({ ...env, INTERIM_RUN_WORKER: 'true', INTERIM_WORKER_INTERVAL_MS: '200' });
        const hook = await waitFor('the webhook', async () => receiver.requests.find((r) => r.path === `/kill-${dialect}`));
        const payload = JSON.parse(hook.body);
        expect(payload).toMatchObject({ type: 'access_request.submitted', request: { id: submitted.body.id } });
        expect(verifyWebhook(action.body.signing_secret, hook.headers as Record<string, string>, hook.body, Math.floor(Date.now() / 1000))).toBe(true);
      } finally {
        child.kill('SIGKILL');
        await database.drop();
      }
    }, 60_000);
  });
}
