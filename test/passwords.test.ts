import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createPasswordHasher, OWASP_SCRYPT } from '../src/security/passwords.ts';
import { createSemaphore } from '../src/security/semaphore.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser, parseForm } from './helpers/oidc-browser.ts';
import { createApp, PASSWORD } from './helpers/oidc-fixtures.ts';
import { relyingParty } from './helpers/oidc-rp.ts';

const NEW_PASSWORD = 'a brand new long password';

describe('password hashing', () => {
  it('uses OWASP scrypt parameters by default, and the cost is a setting', async () => {
    expect(loadConfig({ INTERIM_MASTER_KEY: Buffer.alloc(32).toString('base64') }).passwords.scryptN).toBe(2 ** 17);
    expect(loadConfig({ INTERIM_MASTER_KEY: Buffer.alloc(32).toString('base64'), INTERIM_PASSWORD_SCRYPT_N: '4096' }).passwords.scryptN).toBe(4096);
    expect(() => loadConfig({ INTERIM_MASTER_KEY: Buffer.alloc(32).toString('base64'), INTERIM_PASSWORD_SCRYPT_N: '5000' })).toThrow(/INTERIM_PASSWORD_SCRYPT_N: must be a power of two/);

    const production = createPasswordHasher({ scryptN: OWASP_SCRYPT.N, concurrency: 1 });
    const hash = await production.hash(PASSWORD);
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await production.verify(PASSWORD, hash)).toEqual({ ok: true, needsRehash: false });
    expect(await production.verify('another password!', hash)).toEqual({ ok: false, needsRehash: false });
    // A hash made at the old, weaker cost still verifies and asks to be replaced.
    const weak = await createPasswordHasher({ scryptN: 16384, concurrency: 1 }).hash(PASSWORD);
    expect(await production.verify(PASSWORD, weak)).toEqual({ ok: true, needsRehash: true });
    expect(await production.verify(PASSWORD, null)).toEqual({ ok: false, needsRehash: false });
    expect(await production.verify(PASSWORD, 'garbage')).toEqual({ ok: false, needsRehash: false });
  });

  it('runs at most `limit` tasks at once behind the semaphore', async () => {
    const semaphore = createSemaphore(2);
    let running = 0;
    let most = 0;
    const task = () =>
      semaphore.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return 'done';
      });
    expect(await Promise.all(Array.from({ length: 9 }, task))).toEqual(Array(9).fill('done'));
    expect(most).toBe(2);
  });
});

describeEachDialect(
  'rehash at sign-in at the production cost',
  (server) => {
    it('replaces a hash made with weaker parameters when the user signs in', async () => {
      const { admin, app } = server();
      const created = await admin.post('/api/v1/users', { email: 'legacy@example.test', name: 'legacy', password: PASSWORD, must_change_password: false });
      expect(created.status).toBe(201);
      const stored = () => app.core.db.selectFrom('users').select('password_hash').where('id', '=', created.body.id).executeTakeFirstOrThrow();
      expect((await stored()).password_hash).toMatch(/^scrypt\$131072\$8\$1\$/);
      // As the old code stored it: N=16384.
      const legacy = await createPasswordHasher({ scryptN: 16384, concurrency: 1 }).hash(PASSWORD);
      await app.core.db.updateTable('users').set({ password_hash: legacy }).where('id', '=', created.body.id).execute();

      expect((await new ApiClient(server().url).signIn('legacy@example.test', 'wrong password here')).status).toBe(401);
      expect((await stored()).password_hash).toBe(legacy);
      expect((await new ApiClient(server().url).signIn('legacy@example.test', PASSWORD)).status).toBe(200);
      const upgraded = (await stored()).password_hash!;
      expect(upgraded).toMatch(/^scrypt\$131072\$8\$1\$/);
      expect(await app.core.passwords.verify(PASSWORD, upgraded)).toEqual({ ok: true, needsRehash: false });
      expect((await new ApiClient(server().url).signIn('legacy@example.test', PASSWORD)).status).toBe(200);
      const audit = await app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'session.created').where('target_id', '=', created.body.id).execute();
      expect(audit.map((a) => JSON.parse(a.data).password_rehashed ?? false)).toEqual([true, false]);
    });
  },
  { INTERIM_PASSWORD_SCRYPT_N: String(OWASP_SCRYPT.N), INTERIM_PASSWORD_HASH_CONCURRENCY: '1' },
);

describeEachDialect('passwords set by an admin, and the forced change', (server) => {
  const createUser = async (email: string, extra: Record<string, unknown> = {}) => {
    const res = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password: PASSWORD, ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; must_change_password: boolean };
  };

  it('makes the user change a password an admin set at creation, and refuses the same password', async () => {
    const user = await createUser('fresh@example.test');
    expect(user.must_change_password).toBe(true);
    const portal = new ApiClient(server().url);
    const signedIn = await portal.signIn('fresh@example.test', PASSWORD);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.must_change_password).toBe(true);
    const blocked = await portal.get('/api/v1/api-tokens');
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('password_change_required');

    const same = await portal.post('/api/v1/me/password', { current_password: PASSWORD, new_password: PASSWORD });
    expect(same.status).toBe(400);
    expect(same.body.errors).toEqual([{ field: 'new_password', message: 'must differ from the current password' }]);
    expect((await portal.get('/api/v1/api-tokens')).status).toBe(403);

    const wrong = await portal.post('/api/v1/me/password', { current_password: 'not my password!', new_password: NEW_PASSWORD });
    expect(wrong.status).toBe(409);
    expect((await portal.post('/api/v1/me/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(204);
    expect((await portal.get('/api/v1/api-tokens')).status).toBe(200);
    expect((await portal.get('/api/v1/session')).body.user.must_change_password).toBe(false);
  });

  it('makes the user change a password an admin reset, on the OIDC login too', async () => {
    const s = server();
    const user = await createUser('reset@example.test', { must_change_password: false });
    expect(user.must_change_password).toBe(false);
    const reset = await s.admin.patch(`/api/v1/users/${user.id}`, { password: NEW_PASSWORD });
    expect(reset.status).toBe(200);
    expect(reset.body.must_change_password).toBe(true);

    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const browser = new Browser(s.url);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid', code_challenge: 'w'.repeat(43), code_challenge_method: 'S256' });
    const form = parseForm((await browser.navigate(url.href)).html!);
    const page = await browser.navigate(form.action, { form: { ...form.fields, email: 'reset@example.test', password: NEW_PASSWORD } });
    expect(page.status).toBe(403);
    expect(page.html).toContain('Change your password first');

    const audit = await s.app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'user.updated').where('target_id', '=', user.id).execute();
    expect(JSON.parse(audit.at(-1)!.data)).toMatchObject({ password_changed: true });
  });

  it('refuses bad input and non-admins setting passwords', async () => {
    const user = await createUser('plain-pw@example.test', { must_change_password: false });
    const bad = await server().admin.patch(`/api/v1/users/${user.id}`, { must_change_password: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['must_change_password']);
    const portal = new ApiClient(server().url);
    await portal.signIn('plain-pw@example.test', PASSWORD);
    expect((await portal.patch(`/api/v1/users/${user.id}`, { password: NEW_PASSWORD })).status).toBe(403);
    expect((await new ApiClient(server().url).post('/api/v1/me/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(401);
  });

  it('resets a password to a one-time password for the CLI, ending sessions and tokens', async () => {
    const s = server();
    const user = await createUser('forgot@example.test', { must_change_password: false });
    const portal = new ApiClient(s.url);
    expect((await portal.signIn('forgot@example.test', PASSWORD)).status).toBe(200);
    const token = await portal.post('/api/v1/api-tokens', { name: 'laptop', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(token.status).toBe(201);

    const users = s.app.services.users;
    const { user: after, oneTimePassword } = await users.resetPasswordToOneTime(' FORGOT@example.test ');
    expect(after.id).toBe(user.id);
    expect(after.must_change_password).toBe(1);
    expect(oneTimePassword.length).toBeGreaterThanOrEqual(20);

    expect((await portal.get('/api/v1/session')).status).toBe(401);
    expect((await new ApiClient(s.url).withToken(token.body.token).get('/api/v1/api-tokens')).status).toBe(401);
    expect((await new ApiClient(s.url).signIn('forgot@example.test', PASSWORD)).status).toBe(401);
    const fresh = new ApiClient(s.url);
    expect((await fresh.signIn('forgot@example.test', oneTimePassword)).body.user.must_change_password).toBe(true);
    expect((await fresh.get('/api/v1/api-tokens')).body.code).toBe('password_change_required');

    const audit = await s.app.core.db.selectFrom('audit_events').selectAll().where('action', '=', 'user.password_reset').where('target_id', '=', user.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_type).toBe('system');
    expect(audit[0]!.data).not.toContain(oneTimePassword);
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ via: 'cli', api_tokens_ended: 1 });

    await expect(users.resetPasswordToOneTime('nobody@example.test')).rejects.toMatchObject({ status: 404 });
  });
});
