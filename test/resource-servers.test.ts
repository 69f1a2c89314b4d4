import * as client from 'openid-client';
import { expect, it } from 'vitest';
import { createPerson } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { createApp } from './helpers/oidc-fixtures.ts';
import { decodeJwt, relyingParty } from './helpers/oidc-rp.ts';

const BASE = '/api/v1/resource-servers';
let counter = 0;
const audience = () => `https://api-${process.pid}-${++counter}.example.test`;

describeEachDialect('resource servers: the registry behind resource indicators', (server) => {
  const machine = async () => {
    const s = server();
    const app = await createApp(s, { authMethod: 'client_secret_post', grantTypes: ['client_credentials'], resources: [] });
    return { app, config: await relyingParty(s, app, 'EdDSA', 'post') };
  };

  it('creates, reads, lists with a cursor, changes and deletes, auditing each change, and answers 404 once gone', async () => {
    const { admin } = server();
    const { app } = await machine();
    const aud = audience();
    const created = await admin.post(BASE, { audience: aud, name: 'Billing API', scopes: ['invoices:read', 'invoices:write'], app_ids: [app.id] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ audience: aud, name: 'Billing API', description: '', scopes: ['invoices:read', 'invoices:write'], app_ids: [app.id] });
    const id = created.body.id as string;
    expect((await admin.get(`${BASE}/${id}`)).body).toEqual(created.body);

    const other = await admin.post(BASE, { audience: audience(), name: 'Second', app_ids: [] });
    expect(other.status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string }[]; next_cursor: string | null } } = await admin.get(`${BASE}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining([id, other.body.id]));

    const patched = await admin.patch(`${BASE}/${id}`, { name: 'Billing', scopes: ['invoices:read'], description: 'invoices' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Billing', scopes: ['invoices:read'], description: 'invoices', app_ids: [app.id], audience: aud });

    expect((await admin.delete(`${BASE}/${id}`)).status).toBe(204);
    expect((await admin.get(`${BASE}/${id}`)).status).toBe(404);
    expect((await admin.patch(`${BASE}/${id}`, { name: 'x' })).status).toBe(404);
    expect((await admin.delete(`${BASE}/${id}`)).status).toBe(404);

    const audit = await admin.get(`/api/v1/audit-events?target_id=${id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['resource_server.created', 'resource_server.deleted', 'resource_server.updated']);
  });

  it('refuses bad input with the field named, and a second server with the same audience', async () => {
    const { admin } = server();
    const { app } = await machine();
    const good = { audience: audience(), name: 'API', app_ids: [app.id] };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, audience: 'http://api.example.test' }, 'audience'],
      [{ ...good, audience: 'https://api.example.test/#frag' }, 'audience'],
      [{ ...good, audience: 'https://user:pw@api.example.test' }, 'audience'],
      [{ ...good, audience: 'not a url' }, 'audience'],
      [{ ...good, audience: 42 }, 'audience'],
      [{ ...good, name: '' }, 'name'],
      [{ ...good, scopes: ['openid'] }, 'scopes'],
      [{ ...good, scopes: ['a b'] }, 'scopes'],
      [{ ...good, scopes: ['read', 'read'] }, 'scopes'],
      [{ ...good, app_ids: ['not-a-uuid'] }, 'app_ids'],
      [{ ...good, app_ids: ['0190a0a0-0000-7000-8000-000000000000'] }, 'app_ids'],
      [{ audience: audience(), name: 'no apps' }, 'app_ids'],
    ];
    for (const [body, field] of cases) {
      const res = await admin.post(BASE, body);
      expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(400);
      expect(JSON.stringify(res.body), JSON.stringify(body)).toContain(field);
    }
    const created = await admin.post(BASE, good);
    expect(created.status).toBe(201);
    const dupe = await admin.post(BASE, { ...good, name: 'again' });
    expect(dupe.status).toBe(409);
    expect(dupe.body.code).toBe('audience_taken');
    const other = await admin.post(BASE, { ...good, audience: audience() });
    expect((await admin.patch(`${BASE}/${other.body.id}`, { audience: good.audience })).status).toBe(409);
    expect((await admin.patch(`${BASE}/${other.body.id}`, {})).status).toBe(400);
    expect((await admin.get(`${BASE}/not-a-uuid`)).status).toBe(400);
  });

  it('is for admins only', async () => {
    const s = server();
    const { app } = await machine();
    const created = await s.admin.post(BASE, { audience: audience(), name: 'API', app_ids: [app.id] });
    const person = await createPerson(s, 'not-admin');
    const anonymous = new ApiClient(s.url);
    const calls: [string, string, unknown?][] = [
      ['GET', BASE],
      ['POST', BASE, { audience: audience(), name: 'API', app_ids: [] }],
      ['GET', `${BASE}/${created.body.id}`],
      ['PATCH', `${BASE}/${created.body.id}`, { name: 'mine' }],
      ['DELETE', `${BASE}/${created.body.id}`],
    ];
    for (const [method, path, body] of calls) {
      expect((await person.client.request(method, path, body)).status, `${method} ${path}`).toBe(403);
      expect((await anonymous.request(method, path, body)).status, `${method} ${path}`).toBe(401);
    }
    expect((await s.admin.get(`${BASE}/${created.body.id}`)).body.name).toBe('API');
  });

  it('issues tokens only for registered resources the application may ask for, with the scopes the resource accepts', async () => {
    const { admin } = server();
    const { app, config } = await machine();
    const { app: otherApp } = await machine();
    const aud = audience();

    await expect(client.clientCredentialsGrant(config, { resource: aud })).rejects.toMatchObject({ error: 'invalid_target' });
    await expect(client.clientCredentialsGrant(config, { resource: 'ftp://nope.example' })).rejects.toMatchObject({ error: 'invalid_target' });

    const registered = await admin.post(BASE, { audience: aud, name: 'Orders', scopes: ['orders:read', 'orders:write'], app_ids: [otherApp.id] });
    expect(registered.status).toBe(201);
    // Registered, but for another application.
    await expect(client.clientCredentialsGrant(config, { resource: aud })).rejects.toMatchObject({ error: 'invalid_target' });

    expect((await admin.patch(`${BASE}/${registered.body.id}`, { app_ids: [otherApp.id, app.id] })).status).toBe(200);
    const tokens = await client.clientCredentialsGrant(config, { resource: aud, scope: 'orders:read admin:all' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud, client_id: app.id, scope: 'orders:read' });

    expect((await admin.delete(`${BASE}/${registered.body.id}`)).status).toBe(204);
    await expect(client.clientCredentialsGrant(config, { resource: aud })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('lets one of two concurrent registrations of the same audience win, the other gets 409', async () => {
    const { admin } = server();
    const { app } = await machine();
    const aud = audience();
    const results = await Promise.all([1, 2, 3].map((n) => admin.post(BASE, { audience: aud, name: `racer ${n}`, app_ids: [app.id] })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const listed = await admin.get(`${BASE}?limit=200`);
    expect(listed.body.items.filter((i: { audience: string }) => i.audience === aud)).toHaveLength(1);
  });
});
