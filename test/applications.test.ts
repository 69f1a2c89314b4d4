import { expect, it } from 'vitest';
import { sha256 } from '../src/security/tokens.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('applications API', (server) => {
  const password = 'a long enough password';
  const webApp = { name: 'Wiki', redirect_uris: ['https://wiki.example.test/oidc/callback'] };

  // Names are unique among live applications: each default app gets its own.
  let made = 0;
  async function createApp(body: Record<string, unknown> = { ...webApp, name: made === 0 ? webApp.name : `${webApp.name} ${made}` }) {
    made++;
    const res = await server().admin.post('/api/v1/applications', body);
    expect(res.status).toBe(201);
    return res.body;
  }

  const storedRow = (id: string) => server().app.core.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const auditOf = (id: string) => server().app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', id).orderBy('seq').execute();
  const fieldsOf = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((e) => e.field);

  it('creates a confidential client with defaults, shows its secret once and stores only the hash', async () => {
    const { admin } = server();
    const app = await createApp();
    expect(app).toMatchObject({
      client_id: app.id,
      name: 'Wiki',
      description: '',
      redirect_uris: ['https://wiki.example.test/oidc/callback'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'EdDSA',
      access_token_ttl_secs: 3600,
      id_token_ttl_secs: 3600,
      refresh_token_ttl_secs: 1_209_600,
      first_party: false,
    });
    expect(app.client_secret).toMatch(/^ics_[A-Za-z0-9_-]{43}$/);
    expect(app).not.toHaveProperty('client_secret_hash');

    const row = await storedRow(app.id);
    expect(row.client_secret_hash).toBe(sha256(app.client_secret));
    // The OIDC provider reads these columns directly: JSON arrays of strings.
    expect(JSON.parse(row.redirect_uris)).toEqual(['https://wiki.example.test/oidc/callback']);
    expect(JSON.parse(row.grant_types)).toEqual(['authorization_code', 'refresh_token']);

    const read = await admin.get(`/api/v1/applications/${app.id}`);
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty('client_secret');
    expect(read.body).not.toHaveProperty('client_secret_hash');
    const listed = (await admin.get('/api/v1/applications')).body.items.find((a: { id: string }) => a.id === app.id);
    expect(listed).not.toHaveProperty('client_secret');
  });

  it('reads, updates and soft-deletes an application', async () => {
    const { admin } = server();
    const app = await createApp({
      name: 'Grafana',
      description: 'dashboards',
      redirect_uris: ['https://grafana.example.test/login/generic_oauth', 'http://localhost:3000/login/generic_oauth'],
      post_logout_redirect_uris: ['https://grafana.example.test/'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      access_token_ttl_secs: 600,
      first_party: true,
    });
    const patched = await admin.patch(`/api/v1/applications/${app.id}`, {
      name: 'Grafana prod',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      redirect_uris: ['http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb'],
      refresh_token_ttl_secs: 300,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Grafana prod',
      description: 'dashboards',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      redirect_uris: ['http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      access_token_ttl_secs: 600,
      refresh_token_ttl_secs: 300,
      first_party: true,
    });
    expect(patched.body).not.toHaveProperty('client_secret');
    expect((await admin.get(`/api/v1/applications/${app.id}`)).body).toEqual(patched.body);
    // A PATCH that leaves the method alone keeps the secret.
    expect((await storedRow(app.id)).client_secret_hash).toBe(sha256(app.client_secret));

    expect((await admin.delete(`/api/v1/applications/${app.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/applications/${app.id}`)).status).toBe(404);
    expect((await admin.patch(`/api/v1/applications/${app.id}`, { name: 'x' })).status).toBe(404);
    expect((await admin.post(`/api/v1/applications/${app.id}/client-secret`)).status).toBe(404);
    expect((await admin.delete(`/api/v1/applications/${app.id}`)).status).toBe(404);
    const list = await admin.get('/api/v1/applications?limit=200');
    expect(list.body.items.map((a: { id: string }) => a.id)).not.toContain(app.id);
    // Soft delete: the row stays for the audit trail, marked gone.
    expect((await storedRow(app.id)).deleted_at).not.toBeNull();

    const audit = await auditOf(app.id);
    expect(audit.map((a) => a.action)).toEqual(['application.created', 'application.updated', 'application.deleted']);
    for (const a of audit) {
      expect(a.data).not.toContain(app.client_secret);
      expect(a.data).not.toContain(sha256(app.client_secret));
    }
  });

  it('rotates the secret: the new one is shown once and the old hash is replaced', async () => {
    const { admin } = server();
    const app = await createApp();
    const rotated = await admin.post(`/api/v1/applications/${app.id}/client-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.client_id).toBe(app.id);
    expect(rotated.body.client_secret).toMatch(/^ics_/);
    expect(rotated.body.client_secret).not.toBe(app.client_secret);
    expect((await storedRow(app.id)).client_secret_hash).toBe(sha256(rotated.body.client_secret));

    const audit = await auditOf(app.id);
    expect(audit.map((a) => a.action)).toEqual(['application.created', 'application.secret_rotated']);
    for (const a of audit) {
      for (const secret of [app.client_secret, rotated.body.client_secret]) {
        expect(a.data).not.toContain(secret);
        expect(a.data).not.toContain(sha256(secret));
      }
    }
  });

  it('keeps a public client without a secret, and issues one when it becomes confidential', async () => {
    const { admin } = server();
    const spa = await createApp({ name: 'SPA', redirect_uris: ['https://spa.example.test/cb'], token_endpoint_auth_method: 'none' });
    expect(spa).not.toHaveProperty('client_secret');
    expect((await storedRow(spa.id)).client_secret_hash).toBeNull();

    const rotate = await admin.post(`/api/v1/applications/${spa.id}/client-secret`);
    expect(rotate.status).toBe(409);
    expect(rotate.body.code).toBe('public_client');

    const confidential = await admin.patch(`/api/v1/applications/${spa.id}`, { token_endpoint_auth_method: 'client_secret_basic' });
    expect(confidential.status).toBe(200);
    expect(confidential.body.client_secret).toMatch(/^ics_/);
    expect((await storedRow(spa.id)).client_secret_hash).toBe(sha256(confidential.body.client_secret));

    const backToPublic = await admin.patch(`/api/v1/applications/${spa.id}`, { token_endpoint_auth_method: 'none' });
    expect(backToPublic.status).toBe(200);
    expect(backToPublic.body).not.toHaveProperty('client_secret');
    expect((await storedRow(spa.id)).client_secret_hash).toBeNull();
  });

  it('rejects bad redirect URIs and inconsistent settings, naming the field', async () => {
    const { admin } = server();
    const cases: [Record<string, unknown>, string][] = [
      [{ redirect_uris: ['/relative/cb'] }, 'redirect_uris.0'],
      [{ redirect_uris: ['http://wiki.example.test/cb'] }, 'redirect_uris.0'],
      [{ redirect_uris: ['https://ok.example.test/cb', 'https://wiki.example.test/cb#frag'] }, 'redirect_uris.1'],
      [{ redirect_uris: ['https://wiki.example.test/cb#'] }, 'redirect_uris.0'],
      [{ redirect_uris: ['ftp://wiki.example.test/cb'] }, 'redirect_uris.0'],
      [{ redirect_uris: ['https://user:pw@wiki.example.test/cb'] }, 'redirect_uris.0'],
      [{ redirect_uris: ['http://localhost.evil.test/cb'] }, 'redirect_uris.0'],
      [{ redirect_uris: ['https://a.example.test/cb', 'https://a.example.test/cb'] }, 'redirect_uris'],
      [{ post_logout_redirect_uris: ['http://wiki.example.test/'] }, 'post_logout_redirect_uris.0'],
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ grant_types: ['implicit'] }, 'grant_types.0'],
      [{ grant_types: [] }, 'grant_types'],
      [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method'],
      [{ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'client_credentials'] }, 'grant_types'],
      [{ id_token_signed_response_alg: 'HS256' }, 'id_token_signed_response_alg'],
      [{ access_token_ttl_secs: 59 }, 'access_token_ttl_secs'],
      [{ id_token_ttl_secs: 86_401 }, 'id_token_ttl_secs'],
      [{ refresh_token_ttl_secs: 299 }, 'refresh_token_ttl_secs'],
      [{ access_token_ttl_secs: 600.5 }, 'access_token_ttl_secs'],
      [{ name: '' }, 'name'],
      [{ client_secret: 'mine' }, 'body'],
    ];
    for (const [override, field] of cases) {
      const res = await admin.post('/api/v1/applications', { ...webApp, ...override });
      expect(res.status, JSON.stringify(override)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(fieldsOf(res), JSON.stringify(override)).toEqual([field]);
    }
    // A machine client needs no redirect URI; a public client may not use client_credentials.
    expect((await admin.post('/api/v1/applications', { name: 'cron', grant_types: ['client_credentials'] })).status).toBe(201);

    const app = await createApp();
    const patchCases: [Record<string, unknown>, string][] = [
      [{ redirect_uris: ['http://example.test/cb'] }, 'redirect_uris.0'],
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, 'grant_types'],
      [{ refresh_token_ttl_secs: 31_536_001 }, 'refresh_token_ttl_secs'],
    ];
    for (const [body, field] of patchCases) {
      const res = await admin.patch(`/api/v1/applications/${app.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(res)).toEqual([field]);
    }
    // Merged with the stored state: making this client public while it may use client_credentials is refused.
    const machine = await createApp({ name: 'machine', grant_types: ['client_credentials'] });
    const toPublic = await admin.patch(`/api/v1/applications/${machine.id}`, { token_endpoint_auth_method: 'none' });
    expect(toPublic.status).toBe(400);
    expect(fieldsOf(toPublic)).toEqual(['grant_types']);
    expect((await storedRow(machine.id)).token_endpoint_auth_method).toBe('client_secret_basic');

    expect((await admin.get('/api/v1/applications/not-a-uuid')).status).toBe(400);
    expect((await admin.get('/api/v1/applications/0190a0a0-0000-7000-8000-000000000000')).status).toBe(404);
  });

  it('needs an admin: no caller is 401, a signed-in non-admin 403', async () => {
    const app = await createApp();
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get('/api/v1/applications')).status).toBe(401);
    expect((await anonymous.post('/api/v1/applications', webApp)).status).toBe(401);
    expect((await anonymous.get(`/api/v1/applications/${app.id}`)).status).toBe(401);
    expect((await anonymous.post(`/api/v1/applications/${app.id}/client-secret`)).status).toBe(401);

    expect((await server().admin.post('/api/v1/users', { email: 'gina@example.test', name: 'gina', password, must_change_password: false })).status).toBe(201);
    const gina = new ApiClient(server().url);
    expect((await gina.signIn('gina@example.test', password)).status).toBe(200);
    expect((await gina.get('/api/v1/applications')).status).toBe(403);
    expect((await gina.post('/api/v1/applications', webApp)).status).toBe(403);
    expect((await gina.get(`/api/v1/applications/${app.id}`)).status).toBe(403);
    expect((await gina.patch(`/api/v1/applications/${app.id}`, { name: 'mine now' })).status).toBe(403);
    expect((await gina.post(`/api/v1/applications/${app.id}/client-secret`)).status).toBe(403);
    expect((await gina.delete(`/api/v1/applications/${app.id}`)).status).toBe(403);
    // Nothing changed behind the refusals.
    const row = await storedRow(app.id);
    expect(row).toMatchObject({ name: app.name, deleted_at: null, client_secret_hash: sha256(app.client_secret) });
  });

  it('paginates with a cursor', async () => {
    const { admin } = server();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createApp({ ...webApp, name: `paged ${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/applications?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((a) => a.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
  });
});
