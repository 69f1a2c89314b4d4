import { expect, it } from 'vitest';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('mappings API', (server) => {
  const password = 'a long enough password';
  const unknownId = '0190a0a0-0000-7000-8000-000000000000';

  /** Groups go straight into the table: system groups have no ordinary endpoint by design. */
  async function group(name: string, isSystem = false): Promise<string> {
    const { db, clock } = server().app.core;
    const id = newId(clock);
    const now = clock.now();
    await db.insertInto('groups').values({ id, name, description: '', is_system: isSystem ? 1 : 0, expires_at: null, created_at: now, updated_at: now }).execute();
    return id;
  }

  async function application(name = 'App'): Promise<string> {
    const res = await server().admin.post('/api/v1/applications', { name, redirect_uris: ['https://app.example.test/cb'] });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function mapping(body: Record<string, unknown>) {
    const res = await server().admin.post('/api/v1/mappings', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  const fieldsOf = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((e) => e.field);

  it('creates, reads, updates, lists and deletes a mapping, auditing each change', async () => {
    const { admin, app } = server();
    const appId = await application('Wiki');
    const [g1, g2, g3] = [await group('wiki-readers'), await group('wiki-editors'), await group('wiki-admins')];
    const created = await mapping({ app_id: appId, claim: 'wiki_role', value: 'reader', group_ids: [g2, g1, g2], description: 'read access' });
    expect(created).toMatchObject({ app_id: appId, claim: 'wiki_role', value: 'reader', group_ids: [g1, g2].sort(), description: 'read access' });

    const row = await app.core.db.selectFrom('mappings').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.value_json)).toBe('reader');

    expect((await admin.get(`/api/v1/mappings/${created.id}`)).body).toEqual(created);

    const asList = await admin.patch(`/api/v1/mappings/${created.id}`, { value: ['read', 'comment'], group_ids: [g3] });
    expect(asList.status).toBe(200);
    expect(asList.body).toMatchObject({ claim: 'wiki_role', value: ['read', 'comment'], group_ids: [g3], description: 'read access' });
    const asFlag = await admin.patch(`/api/v1/mappings/${created.id}`, { claim: 'wiki:beta', value: true, description: '' });
    expect(asFlag.body).toMatchObject({ claim: 'wiki:beta', value: true, group_ids: [g3], description: '' });
    const links = await app.core.db.selectFrom('mapping_groups').select('group_id').where('mapping_id', '=', created.id).execute();
    expect(links.map((l) => l.group_id)).toEqual([g3]);

    const other = await mapping({ app_id: await application('Other'), claim: 'x', value: 'y', group_ids: [g1] });
    const listed = await admin.get(`/api/v1/mappings?app_id=${appId}`);
    expect(listed.body.items.map((m: { id: string }) => m.id)).toEqual([created.id]);
    expect((await admin.get('/api/v1/mappings?limit=200')).body.items.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining([created.id, other.id]));

    expect((await admin.delete(`/api/v1/mappings/${created.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/mappings/${created.id}`)).status).toBe(404);
    expect((await admin.patch(`/api/v1/mappings/${created.id}`, { value: 'z' })).status).toBe(404);
    expect((await admin.delete(`/api/v1/mappings/${created.id}`)).status).toBe(404);
    expect(await app.core.db.selectFrom('mapping_groups').selectAll().where('mapping_id', '=', created.id).execute()).toEqual([]);

    const audit = await app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', created.id).orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['mapping.created', 'mapping.updated', 'mapping.updated', 'mapping.deleted']);
    expect(JSON.parse(audit[1]!.data)).toMatchObject({ before: { value: 'reader' }, after: { value: ['read', 'comment'], group_ids: [g3] } });
  });

  it('deletes the mappings of a deleted application', async () => {
    const { admin, app } = server();
    const appId = await application('Doomed');
    const g = await group('doomed-users');
    const m1 = await mapping({ app_id: appId, claim: 'role', value: 'a', group_ids: [g] });
    const m2 = await mapping({ app_id: appId, claim: 'team', value: ['x'], group_ids: [g] });
    expect((await admin.delete(`/api/v1/applications/${appId}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/mappings/${m1.id}`)).status).toBe(404);
    expect((await admin.get(`/api/v1/mappings/${m2.id}`)).status).toBe(404);
    expect((await admin.get(`/api/v1/mappings?app_id=${appId}`)).body.items).toEqual([]);
    expect(await app.core.db.selectFrom('mapping_groups').selectAll().where('mapping_id', 'in', [m1.id, m2.id]).execute()).toEqual([]);
    const deleted = await app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', appId).where('action', '=', 'application.deleted').executeTakeFirstOrThrow();
    expect(JSON.parse(deleted.data).mapping_ids).toEqual([m1.id, m2.id].sort());

    // A deleted application takes no new mappings.
    const late = await admin.post('/api/v1/mappings', { app_id: appId, claim: 'role', value: 'a', group_ids: [g] });
    expect(late.status).toBe(400);
    expect(fieldsOf(late)).toEqual(['app_id']);
  });

  it('rejects reserved or malformed claims, bad values and bad groups, naming the field', async () => {
    const { admin } = server();
    const appId = await application('Strict');
    const ok = await group('strict-users');
    const system = await group('__access_req_0190a0a0', true);
    const base = { app_id: appId, claim: 'role', value: 'v', group_ids: [ok] };

    const cases: [Record<string, unknown>, string][] = [
      ...['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'email', 'email_verified', 'azp', 'auth_time', 'nonce', 'acr', 'amr', 'at_hash', 'c_hash', 'sid', 'scope', 'client_id', 'cnf', 'SUB', 'Email']
        .map((claim): [Record<string, unknown>, string] => [{ claim }, 'claim']),
      [{ claim: '1role' }, 'claim'],
      [{ claim: 'has space' }, 'claim'],
      [{ claim: 'a'.repeat(101) }, 'claim'],
      [{ claim: '' }, 'claim'],
      [{ value: 3 }, 'value'],
      [{ value: null }, 'value'],
      [{ value: { nested: 'x' } }, 'value'],
      [{ value: [] }, 'value'],
      [{ value: 'x'.repeat(501) }, 'value'],
      [{ value: Array.from({ length: 101 }, (_, i) => `v${i}`) }, 'value'],
      [{ group_ids: [] }, 'group_ids'],
      [{ group_ids: ['not-a-uuid'] }, 'group_ids.0'],
      [{ group_ids: [ok, unknownId] }, 'group_ids'],
      [{ group_ids: [ok, system] }, 'group_ids'],
      [{ app_id: unknownId }, 'app_id'],
      [{ app_id: 'nope' }, 'app_id'],
    ];
    for (const [override, field] of cases) {
      const res = await admin.post('/api/v1/mappings', { ...base, ...override });
      expect(res.status, JSON.stringify(override).slice(0, 80)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(fieldsOf(res), JSON.stringify(override).slice(0, 80)).toEqual([field]);
    }
    const missing = await admin.post('/api/v1/mappings', { app_id: appId, claim: 'role' });
    expect(fieldsOf(missing).sort()).toEqual(['group_ids', 'value']);

    // `groups` and namespaced claims are fine.
    await mapping({ ...base, claim: 'groups', value: ['ops'] });
    const m = await mapping({ ...base, claim: 'https:example.test:role', value: false });

    const patchCases: [Record<string, unknown>, string][] = [
      [{ claim: 'email_verified' }, 'claim'],
      [{ group_ids: [system] }, 'group_ids'],
      [{ value: 1.5 }, 'value'],
      [{ app_id: appId }, 'body'],
    ];
    for (const [body, field] of patchCases) {
      const res = await admin.patch(`/api/v1/mappings/${m.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(res)).toEqual([field]);
    }
    expect((await admin.get(`/api/v1/mappings/${m.id}`)).body).toMatchObject({ claim: 'https:example.test:role', value: false, group_ids: [ok] });
    expect((await admin.get('/api/v1/mappings?app_id=nope')).status).toBe(400);
  });

  it('leaves the links of access grants alone: not shown in group_ids, kept when group_ids is replaced', async () => {
    const { admin, app } = server();
    const appId = await application('Granted');
    const [g1, g2] = [await group('granted-a'), await group('granted-b')];
    const grantGroup = await group('__access_req_0190a0a0-1111', true);
    const m = await mapping({ app_id: appId, claim: 'role', value: 'x', group_ids: [g1] });
    // What an approved access request does: link the mapping to its grant group.
    await app.core.db.insertInto('mapping_groups').values({ mapping_id: m.id, group_id: grantGroup }).execute();

    expect((await admin.get(`/api/v1/mappings/${m.id}`)).body.group_ids).toEqual([g1]);
    const replaced = await admin.patch(`/api/v1/mappings/${m.id}`, { group_ids: [g2] });
    expect(replaced.body.group_ids).toEqual([g2]);
    const links = await app.core.db.selectFrom('mapping_groups').select('group_id').where('mapping_id', '=', m.id).orderBy('group_id').execute();
    expect(links.map((l) => l.group_id).sort()).toEqual([g2, grantGroup].sort());
  });

  it('needs an admin: no caller is 401, a signed-in non-admin 403', async () => {
    const appId = await application('Guarded');
    const g = await group('guarded-users');
    const m = await mapping({ app_id: appId, claim: 'role', value: 'x', group_ids: [g] });
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get('/api/v1/mappings')).status).toBe(401);
    expect((await anonymous.get(`/api/v1/mappings/${m.id}`)).status).toBe(401);
    expect((await anonymous.post('/api/v1/mappings', { app_id: appId, claim: 'role', value: 'x', group_ids: [g] })).status).toBe(401);

    expect((await server().admin.post('/api/v1/users', { email: 'hank@example.test', name: 'hank', password, must_change_password: false })).status).toBe(201);
    const hank = new ApiClient(server().url);
    expect((await hank.signIn('hank@example.test', password)).status).toBe(200);
    expect((await hank.get('/api/v1/mappings')).status).toBe(403);
    expect((await hank.get(`/api/v1/mappings/${m.id}`)).status).toBe(403);
    expect((await hank.post('/api/v1/mappings', { app_id: appId, claim: 'role', value: 'admin', group_ids: [g] })).status).toBe(403);
    expect((await hank.patch(`/api/v1/mappings/${m.id}`, { value: 'admin' })).status).toBe(403);
    expect((await hank.delete(`/api/v1/mappings/${m.id}`)).status).toBe(403);
    expect((await server().admin.get(`/api/v1/mappings/${m.id}`)).body.value).toBe('x');
  });

  it('paginates with a cursor within one application', async () => {
    const { admin } = server();
    const appId = await application('Paged');
    const g = await group('paged-users');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await mapping({ app_id: appId, claim: `c${i}`, value: 'v', group_ids: [g] })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/mappings?app_id=${appId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((m) => m.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(ids.sort());
  });
});
