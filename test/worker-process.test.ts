import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { submitWithWebhook } from './helpers/webhook-scenario.ts';
import { instanceEnv, startInterim, startInterimWorker, waitForValue, type RunningInterim } from './helpers/interim-process.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

for (const dialect of dialectsUnderTest()) {
  describe(`interim worker beside a server that runs none [${dialect}]`, () => {
    it('runs the tasks of the same composition as serve and stays up: the outbox is delivered, and no port is bound', async () => {
      const database = await createTestDatabase(dialect);
      const port = await freePort();
      const token = randomBytes(32).toString('base64url');
      const env = instanceEnv(database.target, port, token, { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_DELIVERY_INTERVAL_MS: '100' });
      const server = await startInterim({ ...env, INTERIM_RUN_WORKER: 'false' });
      let worker: RunningInterim | undefined;
      try {
        const path = `/worker-${dialect}`;
        const { admin, requestId } = await submitWithWebhook(env.INTERIM_BASE_URL!, token, `${receiver.url}${path}`, 'worker');

        // The server runs no worker: the delivery waits.
        await new Promise((r) => setTimeout(r, 500));
        expect(receiver.requests.filter((r) => r.path === path)).toHaveLength(0);

        // Same INTERIM_PORT as the server: a worker that tried to listen would fail to start.
        worker = await startInterimWorker(env);
        await waitForValue('the webhook', async () => (receiver.requests.some((r) => r.path === path) ? true : undefined));
        const settled = await waitForValue('the delivery to settle', async () => {
          const d = (await admin.get(`/api/v1/deliveries?request_id=${requestId}&channel=webhook`)).body.items[0];
          return d?.status === 'succeeded' ? d : undefined;
        });
        expect(settled.attempts).toBe(1);
        // Still running (on SQLite, with no socket open, it once exited right after starting), and it stops cleanly.
        expect(worker.child.exitCode).toBeNull();
        expect(await worker.stop()).toBe(0);
      } finally {
        await worker?.crash();
        await server.crash();
        await database.drop();
      }
    }, 60_000);
  });
}
