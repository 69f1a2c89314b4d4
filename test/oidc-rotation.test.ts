import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import type { DialectName } from '../src/db/database.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD, type AppFixture } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import { freePort } from './helpers/postgres-cluster.ts';
import type { TestServer } from './helpers/server.ts';

/** A refresh grant over plain HTTP, so a failure's status and body can be read. */
async function refresh(s: Pick<TestServer, 'url'>, app: AppFixture, refreshToken: string) {
  const res = await fetch(`${s.url}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function signedInChain(s: TestServer, email: string) {
  await createUser(s, email);
  const app = await createApp(s);
  const { tokens } = await codeFlow(await relyingParty(s, app), new Browser(s.url), app, { email, password: PASSWORD });
  return { app, refreshToken: tokens.refresh_token! };
}

/**
 * A real database-level failure of one insert into oidc_payloads: a trigger. On
 * PostgreSQL it raises admin_shutdown (57P01), what a backend reports when the server is
 * stopped under it; SQLite's RAISE carries no such code.
 */
async function failInsertsOf(s: TestServer, dialect: DialectName, model: string): Promise<() => Promise<void>> {
  const db = s.app.core.db;
  if (dialect === 'postgres') {
    await sql.raw(`create function fail_insert() returns trigger language plpgsql as $$ begin raise exception 'injected failure' using errcode = '57P01'; end $$`).execute(db);
    await sql.raw(`create trigger fail_insert before insert on oidc_payloads for each row when (new.model = '${model}') execute function fail_insert()`).execute(db);
    return async () => {
      await sql.raw('drop trigger fail_insert on oidc_payloads').execute(db);
      await sql.raw('drop function fail_insert').execute(db);
    };
  }
  await sql.raw(`create trigger fail_insert before insert on oidc_payloads when new.model = '${model}' begin select raise(abort, 'injected failure'); end`).execute(db);
  return async () => {
    await sql.raw('drop trigger fail_insert').execute(db);
  };
}

describeEachDialect('refresh-token rotation', (server, dialect) => {
  // oidc-provider stores the new refresh token, then the access token: a failure at
  // either step used to leave the old token consumed and the retry counted as reuse.
  for (const model of ['RefreshToken', 'AccessToken']) {
    it(`leaves the old refresh token usable when storing the new ${model} fails`, async () => {
      const s = server();
      const { app, refreshToken } = await signedInChain(s, `rotate-${model.toLowerCase()}@example.test`);

      const restore = await failInsertsOf(s, dialect, model);
      const failed = await refresh(s, app, refreshToken).finally(restore);
      if (dialect === 'postgres') {
        // An outage-class failure is answered as one: 503 in the OAuth error format.
        expect(failed).toEqual({ status: 503, body: { error: 'temporarily_unavailable', error_description: expect.any(String) } });
      } else {
        expect(failed).toEqual({ status: 500, body: { error: 'server_error', error_description: expect.any(String) } });
      }

      // The client retries with the same token, as it must, and the chain goes on.
      const retried = await refresh(s, app, refreshToken);
      expect(retried.status, JSON.stringify(retried.body)).toBe(200);
      const next = await refresh(s, app, retried.body.refresh_token!);
      expect(next.status, JSON.stringify(next.body)).toBe(200);

      // Reuse detection still holds: the consumed token revokes the whole family.
      expect(await refresh(s, app, refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(await refresh(s, app, next.body.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });
  }

  it('lets one of two concurrent refreshes win; the other gets invalid_grant and the family is revoked', async () => {
    const s = server();
    const { app, refreshToken } = await signedInChain(s, 'race@example.test');
    // A second instance on the same database, with its own connection (pool): on SQLite
    // one connection would serialise the two refreshes and hide the race.
    const port = await freePort();
    const second = await buildApp({ ...s.config, port }, { logger: false });
    await second.listen();
    try {
      const answers = await Promise.all([refresh(s, app, refreshToken), refresh({ url: `http://127.0.0.1:${port}` }, app, refreshToken)]);
      const won = answers.filter((a) => a.status === 200);
      const lost = answers.filter((a) => a.status !== 200);
      expect(won).toHaveLength(1);
      expect(lost).toEqual([{ status: 400, body: { error: 'invalid_grant', error_description: expect.any(String) } }]);
      expect(await refresh(s, app, won[0]!.body.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    } finally {
      await second.close();
    }
  });

  it('refuses a refresh token that was never issued, and one sent by another client', async () => {
    const s = server();
    const { app, refreshToken } = await signedInChain(s, 'other@example.test');
    const other = await createApp(s, { name: 'Other' });
    expect(await refresh(s, app, 'not-a-token')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await refresh(s, other, refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Neither attempt consumed the real token.
    expect((await refresh(s, app, refreshToken)).status).toBe(200);
  });
});
