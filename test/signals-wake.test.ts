import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startLogoutReceiver } from './helpers/logout-receiver.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import { eventually } from './helpers/stalling-receiver.ts';

const logouts = await startLogoutReceiver();
afterAll(() => logouts.close());

/**
 * A server whose worker runs (as `interim serve` does) with a delivery pause of a minute: a
 * change answered through the API starts the delivery task at once, after its commit, so a
 * disabled user's logout token does not wait for the task's next turn.
 */
describeEachDialect(
  'a change answered wakes the delivery task of its process',
  (server) => {
    beforeAll(() => logouts.expectIssuer(`${server().url}/oidc`));

    it('sends a disabled user’s logout token within seconds, though the delivery task would next run in a minute', async () => {
      const s = server();
      const created = await s.admin.post('/api/v1/applications', { name: 'wake', redirect_uris: ['http://127.0.0.1:9/callback'], first_party: true });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const app = { id: created.body.id as string, secret: created.body.client_secret as string, redirectUri: 'http://127.0.0.1:9/callback' };
      expect((await s.admin.patch(`/api/v1/applications/${app.id}`, { backchannel_logout_uri: logouts.uriFor(app.id) })).status).toBe(200);
      const email = 'wake@example.test';
      const userId = await createUser(s, email);
      await codeFlow(await relyingParty(s, app), new Browser(s.url), app, { email, password: PASSWORD });

      const answered = Date.now();
      expect((await s.admin.patch(`/api/v1/users/${userId}`, { disabled: true })).status).toBe(200);
      await eventually('the logout token to arrive', async () => logouts.received.some((l) => l.payload.sub === userId), 10_000);
      expect(Date.now() - answered).toBeLessThan(10_000);
      expect(logouts.refused).toEqual([]);
    });
  },
  { INTERIM_RUN_WORKER: 'true', INTERIM_DELIVERY_INTERVAL_MS: '60000', INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
