import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/modules/events/webhook-signature.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { instanceEnv, startInterim, waitForValue } from './helpers/interim-process.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { startHttpReceiver } from './helpers/receivers.ts';

const receiver = await startHttpReceiver();
afterAll(() => receiver.close());

for (const dialect of dialectsUnderTest()) {
  describe(`a crash between commit and delivery [${dialect}]`, () => {
    it('loses nothing: a new process delivers what the killed one committed', async () => {
      const database = await createTestDatabase(dialect);
      const port = await freePort();
      const token = randomBytes(32).toString('base64url');
      const env = instanceEnv(database.target, port, token, { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_RUN_WORKER: 'false' });
      let child = await startInterim(env);
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
        await child.crash();
        expect(receiver.requests.filter((r) => r.path === `/kill-${dialect}`)).toHaveLength(0);

        child = await startInterim({ ...env, INTERIM_RUN_WORKER: 'true', INTERIM_WORKER_INTERVAL_MS: '200' });
        const hook = await waitForValue('the webhook', async () => receiver.requests.find((r) => r.path === `/kill-${dialect}`));
        const payload = JSON.parse(hook.body);
        expect(payload).toMatchObject({ type: 'access_request.submitted', request: { id: submitted.body.id } });
        expect(verifyWebhook(action.body.signing_secret, hook.headers as Record<string, string>, hook.body, Math.floor(Date.now() / 1000))).toBe(true);
      } finally {
        await child.crash();
        await database.drop();
      }
    }, 60_000);
  });
}
