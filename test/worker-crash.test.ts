import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { submitWithWebhook } from './helpers/webhook-scenario.ts';
import { instanceEnv, startInterim, waitForValue, type RunningInterim } from './helpers/interim-process.ts';
import { startStallingReceiver } from './helpers/stalling-receiver.ts';

const receiver = await startStallingReceiver();
afterAll(() => receiver.close());

const OUTBOUND_TIMEOUT_MS = 2000;
const LEASE_MARGIN_MS = 1000;

for (const dialect of dialectsUnderTest()) {
  describe(`a worker that crashes mid-delivery [${dialect}]`, () => {
    it('leaves a lease of the outbound timeout plus the margin, after which another process sends it again', async () => {
      const database = await createTestDatabase(dialect);
      const port = await freePort();
      const token = randomBytes(32).toString('base64url');
      const env = instanceEnv(database.target, port, token, {
        INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true',
        INTERIM_OUTBOUND_TIMEOUT_MS: String(OUTBOUND_TIMEOUT_MS),
        INTERIM_DELIVERY_LEASE_MARGIN_MS: String(LEASE_MARGIN_MS),
        INTERIM_DELIVERY_INTERVAL_MS: '100',
      });
      const path = `/crash-${dialect}`;
      let child: RunningInterim = await startInterim(env);
      try {
        receiver.stall();
        const { admin, requestId } = await submitWithWebhook(env.INTERIM_BASE_URL!, token, `${receiver.url}${path}`, 'crash');

        // The worker has claimed the webhook and is waiting on the receiver: it dies there.
        await waitForValue('the first attempt', async () => (receiver.paths.includes(path) ? true : undefined));
        await child.crash();
        const crashedAt = Date.now();

        const db = openDatabase(database.target);
        try {
          const row = await db.db.selectFrom('deliveries').selectAll().where('request_id', '=', requestId).where('channel', '=', 'webhook').executeTakeFirstOrThrow();
          expect(row).toMatchObject({ status: 'running', attempts: 1 });
          // The documented lease: the outbound timeout plus the margin (not 2 × script timeout + 60 s),
          // counted from the claim or from the last renewal (every third of a lease) before the crash.
          const lease = OUTBOUND_TIMEOUT_MS + LEASE_MARGIN_MS;
          expect(row.lease_until! - row.updated_at).toBeGreaterThanOrEqual(lease);
          expect(row.lease_until! - row.updated_at).toBeLessThanOrEqual(lease + lease / 3 + 500);
        } finally {
          await db.close();
        }

        receiver.answerAll();
        child = await startInterim(env);
        await waitForValue('the second attempt', async () => (receiver.paths.filter((p) => p === path).length >= 2 ? true : undefined));
        expect(Date.now() - crashedAt).toBeLessThan(15_000);
        const settled = await waitForValue('the delivery to settle', async () => {
          const d = (await admin.get(`/api/v1/deliveries?request_id=${requestId}&channel=webhook`)).body.items[0];
          return d?.status === 'succeeded' ? d : undefined;
        });
        expect(settled.attempts).toBe(2);
      } finally {
        await child.crash();
        await database.drop();
      }
    }, 60_000);
  });
}
