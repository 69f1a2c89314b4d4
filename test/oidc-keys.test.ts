import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { Browser, parseForm } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { authorizationRequest, relyingParty, verifyJwt } from './helpers/oidc-rp.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';

/** This suite restarts the app on one database, so it manages the server itself. */
for (const dialect of dialectsUnderTest()) {
  describe(`OIDC keys across restarts [${dialect}]`, () => {
    let database: TestDatabase;
    let config: Config;
    let app: App | undefined;
    const adminToken = randomBytes(32).toString('base64url');

    async function start(): Promise<TestServer> {
      app = await buildApp(config, { logger: false });
      await app.listen();
      return { app, config, url: config.baseUrl, dialect, admin: new ApiClient(config.baseUrl).withToken(adminToken), adminToken, close: async () => app!.close() };
    }

    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      const port = await freePort();
      config = loadConfig({
        INTERIM_PORT: String(port),
        INTERIM_BASE_URL: `http://127.0.0.1:${port}`,
        INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
        INTERIM_ADMIN_EMAIL: ADMIN_EMAIL,
        INTERIM_ADMIN_PASSWORD: ADMIN_PASSWORD,
        INTERIM_BOOTSTRAP_TOKEN: adminToken,
        INTERIM_RUN_WORKER: 'false',
        ...(database.target.kind === 'postgres' ? { DATABASE_URL: database.target.url } : { INTERIM_DATA_DIR: database.target.file.replace(/\/interim\.db$/, '') }),
      });
    });

    afterAll(async () => {
      await app?.close();
      await database?.drop();
    });

    it('keeps signing keys, cookie keys and tokens through a restart', async () => {
      let server = await start();
      const jwksBefore = await (await fetch(`${server.url}/oidc/jwks`)).json();
      const rows = await server.app.core.db.selectFrom('signing_keys').select(['kid', 'private_jwk_encrypted']).execute();
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row.private_jwk_encrypted).not.toContain('"d"'); // encrypted at rest

      await createUser(server, 'restart@example.test');
      const appFixture = await createApp(server, { alg: 'RS256' });
      let config1 = await relyingParty(server, appFixture, 'RS256');
      // Start signing in, then restart before the form is submitted.
      const browser = new Browser(server.url);
      const auth = await authorizationRequest(config1, appFixture);
      const loginPage = await browser.navigate(auth.url.href);
      const form = parseForm(loginPage.html!);

      await server.close();
      server = await start();
      const jwksAfter = await (await fetch(`${server.url}/oidc/jwks`)).json();
      expect(jwksAfter).toEqual(jwksBefore);

      // The interaction cookie signed before the restart still verifies.
      const callback = await browser.navigate(form.action, { form: { ...form.fields, email: 'restart@example.test', password: PASSWORD } });
      expect(callback.leftTo).toBeDefined();
      config1 = await relyingParty(server, appFixture, 'RS256');
      const tokens = await client.authorizationCodeGrant(config1, new URL(callback.leftTo!), { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce });
      const idToken = await verifyJwt(server, tokens.id_token!);
      expect(idToken.header.alg).toBe('RS256');
      expect(jwksBefore.keys.map((k: { kid: string }) => k.kid)).toContain(idToken.header.kid);

      // And tokens issued now survive the next restart.
      await server.close();
      await start();
      const refreshed = await client.refreshTokenGrant(config1, tokens.refresh_token!);
      expect(refreshed.claims()!.sub).toBe(idToken.payload.sub);
    });
  });
}
