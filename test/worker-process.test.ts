import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { freePort } from './helpers/postgres-cluster.ts';
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
        const admin = new ApiClient(env.INTERIM_BASE_URL!).withToken(token);
        const user = await admin.post('/api/v1/users', { email: 'w@example.test', name: 'W', password: 'a long enough password', must_change_password: false });
        expect(user.status).toBe(201);
        const app = await admin.post('/api/v1/applications', { name: 'app', redirect_uris: ['https://app.example.test/cb'] });
        const group = await admin.post('/api/v1/groups', { name: 'holders' });
        const mapping = await admin.post('/api/v1/mappings', { app_id: app.body.id, claim: 'role', value: 'x', group_ids: [group.body.id] });
        const template = await admin.post('/api/v1/access-request-templates', {
          name: 'worker test',
          app_id: app.body.id,
          mapping_ids: [mapping.body.id],
          allowed_durations: [60],
          require_justification: false,
          approval: 'open',
        });
        expect(template.status, JSON.stringify(template.body)).toBe(201);
        const path = `/worker-${dialect}`;
        const action = await admin.post('/api/v1/event-actions', { name: 'hook', event_types: ['access_request.submitted'], kind: 'webhook', config: { url: `${receiver.url}${path}` } });
        expect(action.status, JSON.stringify(action.body)).toBe(201);
        const requester = new ApiClient(env.INTERIM_BASE_URL!);
        await requester.signIn('w@example.test', 'a long enough password');
        const submitted = await requester.post('/api/v1/access-requests', { template_id: template.body.id, duration_mins: 60 });
        expect(submitted.status).toBe(201);

        // The server runs no worker: the delivery waits.
        await new Promise((r) => setTimeout(r, 500));
        expect(receiver.requests.filter((r) => r.path === path)).toHaveLength(0);

        // Same INTERIM_PORT as the server: a worker that tried to listen would fail to start.
        worker = await startInterimWorker(env);
        await waitForValue('the webhook', async () => (receiver.requests.some((r) => r.path === path) ? true : undefined));
        const settled = await waitForValue('the delivery to settle', async () => {
          const d = (await admin.get(`/api/v1/deliveries?request_id=${submitted.body.id}&channel=webhook`)).body.items[0];
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
