import { afterEach, expect, it, vi } from 'vitest';
import { sha256 } from '../src/security/tokens.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('API tokens', (server) => {
  const password = 'a long enough password';

  afterEach(() => {
    vi.useRealTimers();
  });

  /** A non-admin user signed in through the portal session. */
  async function signedInUser(email: string) {
    const created = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password, must_change_password: false });
    expect(created.status).toBe(201);
    const client = new ApiClient(server().url);
    expect((await client.signIn(email, password)).status).toBe(200);
    return { id: created.body.id as string, client };
  }

  /** Non-admins' tokens must expire (90 days at most by default). */
  const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

  const auditOf = (targetId: string) => server().app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', targetId).orderBy('seq').execute();

  it('shows a new token once, stores only its hash, accepts it as Bearer, and refuses it once deleted', async () => {
    const { admin, url } = server();
    const created = await admin.post('/api/v1/api-tokens', { name: 'terraform' });
    expect(created.status).toBe(201);
    const token: string = created.body.token;
    expect(token).toMatch(/^itk_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: 'terraform', expires_at: null, last_used_at: null });

    const row = await server().app.core.db.selectFrom('api_tokens').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sha256(token));
    expect(row.token_hash).not.toContain(token);

    const bearer = new ApiClient(url).withToken(token);
    const mine = await bearer.get('/api/v1/api-tokens');
    expect(mine.status).toBe(200);
    const listed = mine.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('token');
    expect(listed).not.toHaveProperty('token_hash');
    expect(listed.last_used_at).not.toBeNull();

    expect((await bearer.delete(`/api/v1/api-tokens/${created.body.id}`)).status).toBe(204);
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(401);
    expect((await admin.delete(`/api/v1/api-tokens/${created.body.id}`)).status).toBe(404);

    const audit = await auditOf(created.body.id);
    expect(audit.map((a) => a.action)).toEqual(['api_token.created', 'api_token.deleted']);
    for (const a of audit) {
      expect(a.data).not.toContain(token);
      expect(a.data).not.toContain(row.token_hash);
    }
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ name: 'terraform', via: 'api' });
  });

  it('stops accepting a token once it has expired', async () => {
    const { admin, url } = server();
    const expiresAt = new Date(Date.now() + 3_600_000);
    const created = await admin.post('/api/v1/api-tokens', { name: 'short-lived', expires_at: expiresAt.toISOString() });
    expect(created.status).toBe(201);
    expect(Date.parse(created.body.expires_at)).toBe(expiresAt.getTime());
    const bearer = new ApiClient(url).withToken(created.body.token);
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(200);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(expiresAt.getTime() - 1000);
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(200);
    vi.setSystemTime(expiresAt.getTime() + 1000);
    const refused = await bearer.get('/api/v1/api-tokens');
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('unauthenticated');
  });

  it('rejects bad input with a problem naming the field', async () => {
    const { admin } = server();
    const past = await admin.post('/api/v1/api-tokens', { name: 'old', expires_at: new Date(Date.now() - 60_000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ field: 'expires_at', message: 'must be in the future' }]);

    const notInstant = await admin.post('/api/v1/api-tokens', { name: 'x', expires_at: 'tomorrow' });
    expect(notInstant.status).toBe(400);
    expect(notInstant.body.errors.map((e: { field: string }) => e.field)).toEqual(['expires_at']);

    const noName = await admin.post('/api/v1/api-tokens', { name: '  ' });
    expect(noName.status).toBe(400);
    expect(noName.body.errors.map((e: { field: string }) => e.field)).toEqual(['name']);

    expect((await admin.post('/api/v1/api-tokens', { name: 'x', scopes: ['all'] })).status).toBe(400);

    const nobody = await admin.post('/api/v1/api-tokens', { name: 'x', user_id: '0190a0a0-0000-7000-8000-000000000000' });
    expect(nobody.status).toBe(400);
    expect(nobody.body.errors).toEqual([{ field: 'user_id', message: 'no such user' }]);

    expect((await admin.delete('/api/v1/api-tokens/not-a-uuid')).status).toBe(400);
    expect((await admin.get('/api/v1/api-tokens?user_id=nope')).status).toBe(400);
  });

  it('needs a caller', async () => {
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get('/api/v1/api-tokens')).status).toBe(401);
    expect((await anonymous.post('/api/v1/api-tokens', { name: 'x' })).status).toBe(401);
    expect((await anonymous.delete('/api/v1/api-tokens/0190a0a0-0000-7000-8000-000000000000')).status).toBe(401);
    expect((await new ApiClient(server().url).withToken('itk_made-up').get('/api/v1/api-tokens')).status).toBe(401);
  });

  it('lets every user manage only their own tokens, and admins anyone’s', async () => {
    const { admin } = server();
    const erin = await signedInUser('erin@example.test');
    const frank = await signedInUser('frank@example.test');

    const erins = await erin.client.post('/api/v1/api-tokens', { name: 'erin laptop', expires_at: inAWeek() });
    expect(erins.status).toBe(201);
    expect(erins.body.user_id).toBe(erin.id);
    const franks = await frank.client.post('/api/v1/api-tokens', { name: 'frank ci', expires_at: inAWeek() });
    expect(franks.status).toBe(201);

    // A non-admin token carries the user's own powers, no more.
    const erinBearer = new ApiClient(server().url).withToken(erins.body.token);
    expect((await erinBearer.get('/api/v1/users')).status).toBe(403);

    const erinList = await erin.client.get('/api/v1/api-tokens');
    expect(erinList.body.items.map((t: { id: string }) => t.id)).toEqual([erins.body.id]);

    expect((await erin.client.get(`/api/v1/api-tokens?user_id=${frank.id}`)).status).toBe(403);
    expect((await erin.client.post('/api/v1/api-tokens', { name: 'for frank', user_id: frank.id, expires_at: inAWeek() })).status).toBe(403);
    expect((await erin.client.delete(`/api/v1/api-tokens/${franks.body.id}`)).status).toBe(404);
    expect((await new ApiClient(server().url).withToken(franks.body.token).get('/api/v1/api-tokens')).status).toBe(200);

    // Admins see, create and delete anyone's tokens.
    const adminView = await admin.get(`/api/v1/api-tokens?user_id=${frank.id}`);
    expect(adminView.body.items.map((t: { id: string }) => t.id)).toEqual([franks.body.id]);
    const forFrank = await admin.post('/api/v1/api-tokens', { name: 'issued by admin', user_id: frank.id, expires_at: inAWeek() });
    expect(forFrank.status).toBe(201);
    expect(forFrank.body.user_id).toBe(frank.id);
    expect((await admin.delete(`/api/v1/api-tokens/${franks.body.id}`)).status).toBe(204);
    expect((await new ApiClient(server().url).withToken(franks.body.token).get('/api/v1/api-tokens')).status).toBe(401);

    // Owners delete their own.
    expect((await erin.client.delete(`/api/v1/api-tokens/${erins.body.id}`)).status).toBe(204);
    expect((await erinBearer.get('/api/v1/api-tokens')).status).toBe(401);

    // A disabled user's tokens stop working, and nobody can issue them new ones.
    expect((await admin.patch(`/api/v1/users/${frank.id}`, { disabled: true })).status).toBe(200);
    expect((await new ApiClient(server().url).withToken(forFrank.body.token).get('/api/v1/api-tokens')).status).toBe(401);
    const disabled = await admin.post('/api/v1/api-tokens', { name: 'x', user_id: frank.id, expires_at: inAWeek() });
    expect(disabled.status).toBe(400);
    expect(disabled.body.errors[0].field).toBe('user_id');
  });

  it('paginates with a cursor', async () => {
    const { admin } = server();
    const user = await signedInUser('paging-tokens@example.test');
    for (let i = 0; i < 5; i++) expect((await admin.post('/api/v1/api-tokens', { name: `t${i}`, user_id: user.id, expires_at: inAWeek() })).status).toBe(201);
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { name: string }[]; next_cursor: string | null } } = await user.client.get(`/api/v1/api-tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      names.push(...res.body.items.map((t) => t.name));
      cursor = res.body.next_cursor;
    } while (cursor);
    // Every token exactly once. (UUIDv7 orders by millisecond, not within one.)
    expect(names.sort()).toEqual(['t0', 't1', 't2', 't3', 't4']);
  });
});
