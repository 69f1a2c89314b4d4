import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { databaseEnv, runInterim, startInterim } from './helpers/interim-process.ts';
import { freePort } from './helpers/postgres-cluster.ts';

/** First start of a real `interim serve` process on an empty database, as an operator runs it. */
for (const dialect of dialectsUnderTest()) {
  describe(`first start [${dialect}]`, () => {
    let database: TestDatabase;
    let env: Record<string, string>;

    beforeEach(async () => {
      database = await createTestDatabase(dialect);
      env = { INTERIM_HOST: '127.0.0.1', INTERIM_MASTER_KEY: randomBytes(32).toString('base64'), INTERIM_RUN_WORKER: 'false', ...databaseEnv(database.target) };
    });
    afterEach(async () => {
      await database.drop();
    });

    async function userCount(): Promise<number> {
      const opened = openDatabase(database.target);
      try {
        await migrateToLatest(opened.db);
        return (await opened.db.selectFrom('users').select('email').execute()).length;
      } finally {
        await opened.close();
      }
    }

    function listenOn(port: number): Promise<Server> {
      return new Promise((resolve) => {
        const blocker = createServer();
        blocker.listen(port, '127.0.0.1', () => resolve(blocker));
      });
    }

    it('on a busy port says so in one line and creates no admin; the next start prints a working one-time password', { timeout: 90_000 }, async () => {
      const port = await freePort();
      const blocker = await listenOn(port);
      const busy = await runInterim(['serve'], { ...env, INTERIM_PORT: String(port) });
      await new Promise((resolve) => blocker.close(resolve));
      expect(busy.code).toBe(2);
      expect(busy.stderr).toBe(`cannot listen on 127.0.0.1:${port}: the port is already in use (stop what holds it, or set INTERIM_PORT)\n`);
      // The one-time password was never shown, so no admin may exist yet.
      expect(await userCount()).toBe(0);

      const server = await startInterim({ ...env, INTERIM_PORT: String(port) });
      try {
        const printed = /First admin created: (\S+)\nOne-time password: +(\S+)\n/.exec(server.stderr());
        expect(printed?.[1]).toBe('admin@localhost');
        expect(server.stderr()).toContain('Lost it? interim admin reset-password admin@localhost');
        const portal = new ApiClient(`http://127.0.0.1:${port}`);
        expect((await portal.signIn('admin@localhost', printed![2]!)).status).toBe(200);
        expect((await portal.get('/api/v1/users')).body.code).toBe('password_change_required');
      } finally {
        expect(await server.stop()).toBe(0);
      }
      expect(await userCount()).toBe(1);
    });

    it('refuses a bad INTERIM_BASE_URL in one line before touching the database', { timeout: 90_000 }, async () => {
      const port = await freePort();
      const refusal = 'invalid configuration: INTERIM_BASE_URL: must be an http:// or https:// origin such as https://id.example.com (no path, query, fragment or credentials)';
      // Each shape in-process; two of them as an operator meets them, in a real process.
      for (const bad of ['ftp://id.example.test', 'localhost:8080', 'https://id.example.test/interim', 'https://id.example.test/?x=1', 'https://id.example.test#x', 'https://user:pw@id.example.test', 'not a url']) {
        expect(() => loadConfig({ ...env, INTERIM_BASE_URL: bad }), bad).toThrow(new ConfigError(refusal));
      }
      const results = await Promise.all(
        ['ftp://id.example.test', 'https://id.example.test/interim'].map((bad) => runInterim(['serve'], { ...env, INTERIM_PORT: String(port), INTERIM_BASE_URL: bad })),
      );
      for (const result of results) expect(result).toMatchObject({ code: 2, stderr: `${refusal}\n` });
      expect(await userCount()).toBe(0);
      // A good origin, with or without the trailing slash, starts.
      const server = await startInterim({ ...env, INTERIM_PORT: String(port), INTERIM_BASE_URL: 'https://id.example.test/' });
      expect(server.stderr()).toContain('public URL https://id.example.test,');
      expect(await server.stop(), server.stderr()).toBe(0);
    });
  });
}

describeEachDialect('interim admin reset-password', (server) => {
  const password = 'rita\'s first password';
  const cliEnv = () => ({ INTERIM_MASTER_KEY: server().config.masterKey.toString('base64'), ...databaseEnv(server().config.database) });

  it('prints a one-time password that must be changed, and ends the sessions and tokens the user held', { timeout: 60_000 }, async () => {
    const { admin, url } = server();
    const created = await admin.post('/api/v1/users', { email: 'rita@example.test', name: 'Rita', password, must_change_password: false });
    expect(created.status).toBe(201);
    const session = new ApiClient(url);
    expect((await session.signIn('rita@example.test', password)).status).toBe(200);
    const issued = await session.post('/api/v1/api-tokens', { name: 'rita script', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(issued.status).toBe(201);
    const token = new ApiClient(url).withToken(issued.body.token);
    expect((await token.get('/api/v1/api-tokens')).status).toBe(200);

    const reset = await runInterim(['admin', 'reset-password', ' Rita@Example.test '], cliEnv());
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/^[A-Za-z0-9_-]{24}\n$/);
    expect(reset.stderr).toContain('rita@example.test');
    const oneTimePassword = reset.stdout.trim();

    expect((await session.get('/api/v1/api-tokens')).status).toBe(401);
    expect((await token.get('/api/v1/api-tokens')).status).toBe(401);
    expect((await new ApiClient(url).signIn('rita@example.test', password)).status).toBe(401);
    const again = new ApiClient(url);
    expect((await again.signIn('rita@example.test', oneTimePassword)).status).toBe(200);
    expect((await again.get('/api/v1/api-tokens')).body.code).toBe('password_change_required');
    expect((await again.post('/api/v1/me/password', { current_password: oneTimePassword, new_password: 'rita chose a new one' })).status).toBe(204);
    expect((await again.get('/api/v1/api-tokens')).status).toBe(200);

    const audit = await server().app.core.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.password_reset').where('target_id', '=', created.body.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: 'system', actor_id: null });
    expect(JSON.parse(audit[0]!.data)).toEqual({ one_time: true, via: 'cli', api_tokens_ended: 1 });
    expect(audit[0]!.data).not.toContain(oneTimePassword);
    // Nobody else lost anything: the admin's token still works.
    expect((await admin.get('/api/v1/users')).status).toBe(200);
  });

  it('fails in one line, changing nothing, for an unknown email or a missing argument', { timeout: 60_000 }, async () => {
    const before = await server().app.core.db.selectFrom('users').select(['id', 'password_hash']).orderBy('id').execute();
    const unknown = await runInterim(['admin', 'reset-password', 'nobody@example.test'], cliEnv());
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'interim admin reset-password: no user with email nobody@example.test\n' });
    const missing = await runInterim(['admin', 'reset-password'], cliEnv());
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain("missing required argument 'email'");
    expect(await server().app.core.db.selectFrom('users').select(['id', 'password_hash']).orderBy('id').execute()).toEqual(before);
  });
});
