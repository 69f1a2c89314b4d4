import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { sha256 } from '../src/security/tokens.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { ADMIN_EMAIL } from './helpers/server.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describeEachDialect('interim token create (CLI)', (server) => {
  const password = 'a long enough password';

  /** Runs `interim …` as an operator would, against the test server's database. */
  function interim(...args: string[]): Promise<CliResult> {
    const { config } = server();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      INTERIM_MASTER_KEY: config.masterKey.toString('base64'),
      INTERIM_LOG_LEVEL: 'silent',
      ...(config.database.kind === 'postgres' ? { DATABASE_URL: config.database.url } : { INTERIM_DATA_DIR: config.dataDir }),
    };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', ...args], { cwd: repoRoot, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const tokenRows = () => server().app.core.db.selectFrom('api_tokens').selectAll().execute();

  it('prints only a new admin token, which then works against the server', async () => {
    const result = await interim('token', 'create', '--email', ADMIN_EMAIL.toUpperCase(), '--name', 'terraform');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^itk_[A-Za-z0-9_-]{43}\n$/);
    const token = result.stdout.trim();

    const bearer = new ApiClient(server().url).withToken(token);
    expect((await bearer.get('/api/v1/users')).status).toBe(200);
    const mine = await bearer.get('/api/v1/api-tokens');
    const listed = mine.body.items.find((t: { name: string }) => t.name === 'terraform');
    expect(listed).toMatchObject({ expires_at: null });

    const row = (await tokenRows()).find((t) => t.id === listed.id)!;
    expect(row.token_hash).toBe(sha256(token));
    const audit = await server().app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', listed.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: 'api_token.created', actor_type: 'system', actor_id: null });
    expect(JSON.parse(audit.data)).toMatchObject({ user_id: listed.user_id, name: 'terraform', via: 'cli' });
    expect(audit.data).not.toContain(token);
    expect(audit.data).not.toContain(row.token_hash);

    // The printed token is an ordinary token: deleting it ends it.
    expect((await bearer.delete(`/api/v1/api-tokens/${listed.id}`)).status).toBe(204);
    expect((await bearer.get('/api/v1/users')).status).toBe(401);
  });

  it('sets an expiry from --expires-in-days', async () => {
    const before = Date.now();
    const result = await interim('admin', 'token', 'create', '--email', ADMIN_EMAIL, '--name', 'two days', '--expires-in-days', '2');
    expect(result.code).toBe(0);
    const row = (await tokenRows()).find((t) => t.token_hash === sha256(result.stdout.trim()))!;
    expect(row.name).toBe('two days');
    expect(row.expires_at).toBeGreaterThanOrEqual(before + 2 * 86_400_000);
    expect(row.expires_at).toBeLessThanOrEqual(Date.now() + 2 * 86_400_000);
  });

  it('fails clearly, printing no token, for an unknown email or bad arguments', async () => {
    const countBefore = (await tokenRows()).length;

    const unknown = await interim('token', 'create', '--email', 'nobody@example.test', '--name', 'x');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe('interim token create: no user with email nobody@example.test\n');

    const zeroDays = await interim('token', 'create', '--email', ADMIN_EMAIL, '--name', 'x', '--expires-in-days', '0');
    expect(zeroDays.code).toBe(1);
    expect(zeroDays.stdout).toBe('');
    expect(zeroDays.stderr).toContain('--expires-in-days');

    const noName = await interim('token', 'create', '--email', ADMIN_EMAIL);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toContain('--name');

    const blankName = await interim('token', 'create', '--email', ADMIN_EMAIL, '--name', '   ');
    expect(blankName.code).toBe(1);
    expect(blankName.stderr).toContain('name');

    expect((await tokenRows()).length).toBe(countBefore);
  });

  it('gives a non-admin only their own powers, and refuses a disabled user', async () => {
    const { admin } = server();
    const ivy = await admin.post('/api/v1/users', { email: 'ivy@example.test', name: 'ivy', password });
    expect(ivy.status).toBe(201);
    const result = await interim('token', 'create', '--email', 'ivy@example.test', '--name', 'ivy script', '--expires-in-days', '30');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('not an admin');
    const bearer = new ApiClient(server().url).withToken(result.stdout.trim());
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(200);
    expect((await bearer.get('/api/v1/users')).status).toBe(403);

    expect((await admin.patch(`/api/v1/users/${ivy.body.id}`, { disabled: true })).status).toBe(200);
    const disabled = await interim('token', 'create', '--email', 'ivy@example.test', '--name', 'again');
    expect(disabled.code).toBe(1);
    expect(disabled.stdout).toBe('');
    expect(disabled.stderr).toContain('disabled');
  });
});
