import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const DAY = 86_400_000;
const PASSWORD = 'a long enough password';
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

describeEachDialect('API token lifetime limit and listing', (server) => {
  async function signedInUser(email: string) {
    const created = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password: PASSWORD, must_change_password: false });
    expect(created.status).toBe(201);
    const client = new ApiClient(server().url);
    expect((await client.signIn(email, PASSWORD)).status).toBe(200);
    return { id: created.body.id as string, client };
  }

  it('limits tokens of non-admins to 90 days by default, with a clear 400', async () => {
    const { admin } = server();
    expect((await admin.get('/api/v1/settings/api-tokens')).body).toEqual({ max_lifetime_days: 90, admin_max_lifetime_days: null });
    const user = await signedInUser('limited@example.test');
    expect((await user.client.get('/api/v1/settings/api-tokens')).body.max_lifetime_days).toBe(90);

    const forever = await user.client.post('/api/v1/api-tokens', { name: 'forever' });
    expect(forever.status).toBe(400);
    expect(forever.body.errors).toEqual([{ field: 'expires_at', message: 'required: tokens of users who are not admins must expire within 90 days (admin setting max_lifetime_days)' }]);
    const tooLong = await user.client.post('/api/v1/api-tokens', { name: 'long', expires_at: inDays(91) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0]).toEqual({ field: 'expires_at', message: 'must be at most 90 days from now for tokens of users who are not admins' });
    // The owner's role decides, whoever issues the token.
    expect((await admin.post('/api/v1/api-tokens', { name: 'by admin', user_id: user.id })).status).toBe(400);
    expect((await user.client.post('/api/v1/api-tokens', { name: 'ok', expires_at: inDays(89) })).status).toBe(201);
    // Admins have no limit by default.
    expect((await admin.post('/api/v1/api-tokens', { name: 'admin forever' })).status).toBe(201);
  });

  it('lets an admin change the limits, audited', async () => {
    const { admin } = server();
    const user = await signedInUser('policy@example.test');
    const changed = await admin.patch('/api/v1/settings/api-tokens', { max_lifetime_days: 30, admin_max_lifetime_days: 365 });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ max_lifetime_days: 30, admin_max_lifetime_days: 365 });
    try {
      expect((await user.client.post('/api/v1/api-tokens', { name: 'x', expires_at: inDays(31) })).status).toBe(400);
      expect((await user.client.post('/api/v1/api-tokens', { name: 'x', expires_at: inDays(29) })).status).toBe(201);
      const adminForever = await admin.post('/api/v1/api-tokens', { name: 'admin forever' });
      expect(adminForever.status).toBe(400);
      expect(adminForever.body.errors[0].message).toContain('365 days');
      expect((await admin.post('/api/v1/api-tokens', { name: 'admin year', expires_at: inDays(300) })).status).toBe(201);
      // Lifting the limit for everyone.
      expect((await admin.patch('/api/v1/settings/api-tokens', { max_lifetime_days: null })).body).toEqual({ max_lifetime_days: null, admin_max_lifetime_days: 365 });
      expect((await user.client.post('/api/v1/api-tokens', { name: 'no expiry' })).status).toBe(201);
    } finally {
      expect((await admin.patch('/api/v1/settings/api-tokens', { max_lifetime_days: 90, admin_max_lifetime_days: null })).status).toBe(200);
    }
    const audit = await server().app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'settings.api_tokens_updated').orderBy('seq').execute();
    expect(JSON.parse(audit[0]!.data)).toEqual({ before: { max_lifetime_days: 90, admin_max_lifetime_days: null }, after: { max_lifetime_days: 30, admin_max_lifetime_days: 365 } });
  });

  it('refuses bad settings, non-admins and anonymous callers', async () => {
    const { admin, url } = server();
    for (const body of [{ max_lifetime_days: 0 }, { max_lifetime_days: 'ninety' }, { max_lifetime_days: 1.5 }, { max_lifetime_days: 4000 }, { lifetime: 3 }]) {
      const res = await admin.patch('/api/v1/settings/api-tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    const user = await signedInUser('not-admin-policy@example.test');
    expect((await user.client.patch('/api/v1/settings/api-tokens', { max_lifetime_days: 3650 })).status).toBe(403);
    const anonymous = new ApiClient(url);
    expect((await anonymous.get('/api/v1/settings/api-tokens')).status).toBe(401);
    expect((await anonymous.patch('/api/v1/settings/api-tokens', { max_lifetime_days: null })).status).toBe(401);
    expect((await admin.get('/api/v1/settings/api-tokens')).body.max_lifetime_days).toBe(90);
  });

  it('lists everyone’s tokens with their owners for admins only', async () => {
    const { admin } = server();
    const ann = await signedInUser('ann-tokens@example.test');
    const ben = await signedInUser('ben-tokens@example.test');
    const annToken = await ann.client.post('/api/v1/api-tokens', { name: 'ann ci', expires_at: inDays(10) });
    const benToken = await ben.client.post('/api/v1/api-tokens', { name: 'ben ci', expires_at: inDays(10) });
    expect(annToken.body.user_email).toBe('ann-tokens@example.test');

    const all: { id: string; user_email: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string; user_email: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/api-tokens?all=true&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(all.find((t) => t.id === annToken.body.id)?.user_email).toBe('ann-tokens@example.test');
    expect(all.find((t) => t.id === benToken.body.id)?.user_email).toBe('ben-tokens@example.test');

    expect((await ann.client.get('/api/v1/api-tokens?all=true')).status).toBe(403);
    expect((await ann.client.get('/api/v1/api-tokens?all=maybe')).status).toBe(400);
    const own = await ann.client.get('/api/v1/api-tokens?all=false');
    expect(own.body.items.map((t: { id: string }) => t.id)).toEqual([annToken.body.id]);
  });
});
