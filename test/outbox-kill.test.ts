import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../src/modules/event-actions/webhook-signature.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { submitWithWebhook } from './helpers/webhook-scenario.ts';
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
        const { requestId, action } = await submitWithWebhook(env.INTERIM_BASE_URL!, token, `${receiver.url}/kill-${dialect}`, 'kill');

        // Committed, not delivered: the process dies hard before its worker could run.
        await child.crash();
        expect(receiver.requests.filter((r) => r.path === `/kill-${dialect}`)).toHaveLength(0);

        child = await startInterim({ ...env, INTERIM_RUN_WORKER: 'true', INTERIM_WORKER_INTERVAL_MS: '200' });
        const hook = await waitForValue('the webhook', async () => receiver.requests.find((r) => r.path === `/kill-${dialect}`));
        const payload = JSON.parse(hook.body);
        expect(payload).toMatchObject({ type: 'access_request.submitted', request: { id: requestId } });
        expect(verifyWebhook(action.signing_secret, hook.headers as Record<string, string>, hook.body, Math.floor(Date.now() / 1000))).toBe(true);
      } finally {
        await child.crash();
        await database.drop();
      }
    }, 60_000);
  });
}
