import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/server.ts';

describeEachDialect('users API', (server) => {
  const password = 'a long enough password';

  async function createUser(email: string, extra: Record<string, unknown> = {}) {
    const res = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password, must_change_password: false, ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; email: string };
  }

  it('creates, reads, updates, lists and deletes users', async () => {
    const { admin } = server();
    const user = await createUser('Alice@Example.test');
    expect(user.email).toBe('alice@example.test');
    expect(user).not.toHaveProperty('password_hash');

    const read = await admin.get(`/api/v1/users/${user.id}`);
    expect(read.body).toMatchObject({ email: 'alice@example.test', is_admin: false, disabled: false });

    const patched = await admin.patch(`/api/v1/users/${user.id}`, { name: 'Alice Liddell' });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('Alice Liddell');

    const list = await admin.get('/api/v1/users?email=alice@example.test');
    expect(list.body.items.map((u: { id: string }) => u.id)).toEqual([user.id]);

    expect((await admin.delete(`/api/v1/users/${user.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/users/${user.id}`)).status).toBe(404);
    // The email is free again after deletion.
    await createUser('alice@example.test');
  });

  it('paginates with a cursor', async () => {
    const { admin } = server();
    for (let i = 0; i < 5; i++) await createUser(`page${i}@example.test`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { email: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((u) => u.email));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen.filter((e) => e.startsWith('page'))).toEqual(['page0@example.test', 'page1@example.test', 'page2@example.test', 'page3@example.test', 'page4@example.test']);
  });

  it('rejects bad input with a problem naming the field', async () => {
    const { admin } = server();
    const res = await admin.post('/api/v1/users', { email: 'not-an-email', name: 'x', password: 'short' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'password']);

    const unknown = await admin.post('/api/v1/users', { email: 'u@example.test', name: 'u', role: 'root' });
    expect(unknown.status).toBe(400);

    await createUser('dupe@example.test');
    const dupe = await admin.post('/api/v1/users', { email: 'dupe@example.test', name: 'd' });
    expect(dupe.status).toBe(409);
    expect(dupe.body.code).toBe('email_taken');

    expect((await admin.get('/api/v1/users/not-a-uuid')).status).toBe(400);
  });

  it('needs a caller, and keeps non-admins to themselves', async () => {
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get('/api/v1/users')).status).toBe(401);
    expect((await anonymous.post('/api/v1/users', { email: 'x@example.test', name: 'x' })).status).toBe(401);

    const bob = await createUser('bob@example.test');
    const other = await createUser('carol@example.test');
    const client = new ApiClient(server().url);
    expect((await client.signIn('bob@example.test', password)).status).toBe(200);
    expect((await client.get(`/api/v1/users/${bob.id}`)).status).toBe(200);
    expect((await client.get(`/api/v1/users/${other.id}`)).status).toBe(404);
    expect((await client.get('/api/v1/users')).status).toBe(403);
    expect((await client.post('/api/v1/users', { email: 'y@example.test', name: 'y' })).status).toBe(403);
    expect((await client.patch(`/api/v1/users/${bob.id}`, { is_admin: true })).status).toBe(403);
    expect((await client.delete(`/api/v1/users/${other.id}`)).status).toBe(403);
  });

  it('signs in with a session cookie guarded by a CSRF token, and signs out', async () => {
    const client = new ApiClient(server().url);
    const res = await client.signIn(ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().join(';');
    expect(cookie).toMatch(/__Host-interim_session=.*HttpOnly.*/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Secure/i);

    // An unsafe request with the cookie but without the CSRF header is refused.
    const raw = await fetch(`${server().url}/api/v1/users`, {
      method: 'POST',
      headers: { cookie: client.cookieHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'csrf@example.test', name: 'c' }),
    });
    expect(raw.status).toBe(403);
    expect((await raw.json()).code).toBe('csrf_failed');

    expect((await client.delete('/api/v1/session')).status).toBe(204);
    expect((await client.get('/api/v1/session')).status).toBe(401);
  });

  it('gives one generic error for a wrong password or unknown account, then throttles', async () => {
    await createUser('throttle@example.test');
    const client = new ApiClient(server().url);
    const wrong = await client.signIn('throttle@example.test', 'wrong password!!');
    const unknown = await client.signIn('nobody@example.test', 'wrong password!!');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    let last = wrong;
    for (let i = 0; i < 10; i++) last = await client.signIn('throttle@example.test', 'wrong password!!');
    expect(last.status).toBe(429);
    // Even the right password waits out the window.
    expect((await client.signIn('throttle@example.test', password)).status).toBe(429);
  });

  it('ends sessions when a user is disabled, and keeps the last admin', async () => {
    const { admin } = server();
    const dave = await createUser('dave@example.test');
    const client = new ApiClient(server().url);
    await client.signIn('dave@example.test', password);
    expect((await client.get('/api/v1/session')).status).toBe(200);
    expect((await admin.patch(`/api/v1/users/${dave.id}`, { disabled: true })).status).toBe(200);
    expect((await client.get('/api/v1/session')).status).toBe(401);
    expect((await client.signIn('dave@example.test', password)).status).toBe(401);
  });
});
