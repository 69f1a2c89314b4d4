import { expect, it } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { SYSTEM_GROUP_PREFIX } from '../src/modules/groups/system-groups.ts';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

describeEachDialect('groups API', (server) => {
  const password = 'a long enough password';

  async function createGroup(name: string, description?: string) {
    const res = await server().admin.post('/api/v1/groups', { name, ...(description === undefined ? {} : { description }) });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; description: string; created_at: string; updated_at: string };
  }

  async function createUser(email: string) {
    const res = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password, must_change_password: false });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  async function signedIn(email: string) {
    const client = new ApiClient(server().url);
    expect((await client.signIn(email, password)).status).toBe(200);
    return client;
  }

  async function auditOf(targetId: string) {
    const rows = await server().app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', targetId).orderBy('seq').execute();
    return rows.map((r) => ({ action: r.action, actor_id: r.actor_id, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  async function insertSystemGroup() {
    const now = Date.now();
    const row = { id: newId(systemClock), name: `${SYSTEM_GROUP_PREFIX}${newId(systemClock)}`, description: 'grant', is_system: 1 as const, expires_at: now + 3_600_000, created_at: now, updated_at: now };
    await server().app.core.db.insertInto('groups').values(row).execute();
    return row;
  }

  async function insertApplication(name: string) {
    const now = Date.now();
    const id = newId(systemClock);
    await server()
      .app.core.db.insertInto('applications')
      .values({
        id,
        name,
        description: '',
        client_secret_hash: null,
        token_endpoint_auth_method: 'none',
        redirect_uris: '[]',
        post_logout_redirect_uris: '[]',
        grant_types: '[]',
        id_token_signed_response_alg: 'EdDSA',
        access_token_ttl_secs: 300,
        id_token_ttl_secs: 300,
        refresh_token_ttl_secs: 3600,
        first_party: 0,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
    return id;
  }

  async function insertTemplate(name: string, appId: string, escalationGroupId: string | null) {
    const now = Date.now();
    const id = newId(systemClock);
    await server()
      .app.core.db.insertInto('access_request_templates')
      .values({
        id,
        name,
        description: '',
        enabled: 1,
        app_id: appId,
        allowed_durations: '[60]',
        require_justification: 0,
        auto_approve: 0,
        notification_policy: 'all',
        notification_count: 1,
        escalation_after_mins: null,
        escalation_group_id: escalationGroupId,
        custom_fields: '[]',
        trigger_script_id: null,
        trigger_failure_mode: 'ignore',
        trigger_max_retries: 3,
        version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
    return id;
  }

  it('creates, reads, updates, lists and deletes a group, auditing each change', async () => {
    const { admin } = server();
    const group = await createGroup('engineering', 'Everyone who ships code');
    expect(group).toEqual({ id: expect.any(String), name: 'engineering', description: 'Everyone who ships code', created_at: group.created_at, updated_at: group.created_at });
    expect(Date.parse(group.created_at)).not.toBeNaN();
    expect(group).not.toHaveProperty('is_system');

    const plain = await createGroup('no-description');
    expect(plain.description).toBe('');

    const read = await admin.get(`/api/v1/groups/${group.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(group);

    const patched = await admin.patch(`/api/v1/groups/${group.id}`, { name: 'platform' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: group.id, name: 'platform', description: 'Everyone who ships code' });
    const described = await admin.patch(`/api/v1/groups/${group.id}`, { description: '' });
    expect(described.body).toMatchObject({ name: 'platform', description: '' });

    const byName = await admin.get('/api/v1/groups?name=platform');
    expect(byName.status).toBe(200);
    expect(byName.body).toEqual({ items: [{ ...described.body, member_count: 0 }], next_cursor: null });
    expect((await admin.get('/api/v1/groups?name=engineering')).body.items).toEqual([]);

    expect((await admin.delete(`/api/v1/groups/${group.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/groups/${group.id}`)).status).toBe(404);
    expect((await admin.patch(`/api/v1/groups/${group.id}`, { name: 'again' })).status).toBe(404);
    expect((await admin.delete(`/api/v1/groups/${group.id}`)).status).toBe(404);
    // The name is free again.
    await createGroup('platform');

    const events = await auditOf(group.id);
    expect(events.map((e) => e.action)).toEqual(['group.created', 'group.updated', 'group.updated', 'group.deleted']);
    expect(events[0]!.data).toEqual({ name: 'engineering', description: 'Everyone who ships code' });
    expect(events[1]!.data).toEqual({
      before: { name: 'engineering', description: 'Everyone who ships code' },
      after: { name: 'platform', description: 'Everyone who ships code' },
    });
    expect(events[3]!.data).toMatchObject({ name: 'platform' });
    expect(events.every((e) => e.actor_id !== null)).toBe(true);
  });

  it('paginates with a cursor', async () => {
    const { admin } = server();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createGroup(`page-${i}`)).name);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: { name: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/groups?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((g) => g.name));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.filter((n) => n.startsWith('page-'))).toEqual(made);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects bad input with a problem naming the field', async () => {
    const { admin } = server();
    const missing = await admin.post('/api/v1/groups', { description: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.body.code).toBe('validation_failed');
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(['name']);

    const blank = await admin.post('/api/v1/groups', { name: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body.errors[0].field).toBe('name');

    const tooLong = await admin.post('/api/v1/groups', { name: 'ok', description: 'x'.repeat(2001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].field).toBe('description');

    expect((await admin.post('/api/v1/groups', { name: 'extra', is_system: true })).status).toBe(400);
    expect((await admin.get('/api/v1/groups/not-a-uuid')).status).toBe(400);
    expect((await admin.get('/api/v1/groups?limit=0')).status).toBe(400);

    const group = await createGroup('bad-input');
    const wrongType = await admin.patch(`/api/v1/groups/${group.id}`, { name: 42 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors[0].field).toBe('name');
    expect((await admin.patch(`/api/v1/groups/${group.id}`, { is_system: 1 })).status).toBe(400);
  });

  it('keeps names unique: 409 group_name_taken on create and rename', async () => {
    const { admin } = server();
    const first = await createGroup('unique-name');
    const second = await createGroup('other-name');
    const dupe = await admin.post('/api/v1/groups', { name: 'unique-name' });
    expect(dupe.status).toBe(409);
    expect(dupe.body.code).toBe('group_name_taken');
    const rename = await admin.patch(`/api/v1/groups/${second.id}`, { name: 'unique-name' });
    expect(rename.status).toBe(409);
    expect(rename.body.code).toBe('group_name_taken');
    expect((await admin.get(`/api/v1/groups/${second.id}`)).body.name).toBe('other-name');
    // Renaming a group to its own name is not a clash.
    expect((await admin.patch(`/api/v1/groups/${first.id}`, { name: 'unique-name' })).status).toBe(200);
  });

  it('reserves the access-request prefix on create and rename', async () => {
    const { admin } = server();
    for (const name of [`${SYSTEM_GROUP_PREFIX}sneaky`, `${SYSTEM_GROUP_PREFIX.toUpperCase()}SNEAKY`]) {
      const res = await admin.post('/api/v1/groups', { name });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'name', message: expect.stringContaining(SYSTEM_GROUP_PREFIX) }]);
    }
    const group = await createGroup('ordinary');
    const rename = await admin.patch(`/api/v1/groups/${group.id}`, { name: `${SYSTEM_GROUP_PREFIX}x` });
    expect(rename.status).toBe(400);
    expect(rename.body.errors[0].field).toBe('name');
    expect((await admin.get(`/api/v1/groups/${group.id}`)).body.name).toBe('ordinary');
    expect((await admin.get(`/api/v1/groups?name=${SYSTEM_GROUP_PREFIX}sneaky`)).body.items).toEqual([]);
  });

  it('hides system groups from every ordinary endpoint and leaves them untouched', async () => {
    const { admin } = server();
    const system = await insertSystemGroup();
    const user = await createUser('sys-member@example.test');
    await server().app.core.db.insertInto('memberships').values({ group_id: system.id, user_id: user.id, expires_at: null, created_at: Date.now() }).execute();

    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/groups?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...res.body.items.map((g) => g.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(all).not.toContain(system.id);
    expect((await admin.get(`/api/v1/groups?name=${system.name}`)).body.items).toEqual([]);

    const base = `/api/v1/groups/${system.id}`;
    const responses = [
      await admin.get(base),
      await admin.patch(base, { description: 'changed' }),
      await admin.delete(base),
      await admin.get(`${base}/members`),
      await admin.request('PUT', `${base}/members/${user.id}`, { expires_at: null }),
      await admin.delete(`${base}/members/${user.id}`),
    ];
    for (const res of responses) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }

    const row = await server().app.core.db.selectFrom('groups').selectAll().where('id', '=', system.id).executeTakeFirst();
    expect(row).toMatchObject({ description: 'grant', is_system: 1 });
    const membership = await server().app.core.db.selectFrom('memberships').selectAll().where('group_id', '=', system.id).execute();
    expect(membership).toHaveLength(1);
    expect(await auditOf(system.id)).toEqual([]);
  });

  it('deletes memberships and mapping links with the group', async () => {
    const { admin } = server();
    const { db } = server().app.core;
    const group = await createGroup('cascade');
    const user = await createUser('cascade@example.test');
    expect((await admin.request('PUT', `/api/v1/groups/${group.id}/members/${user.id}`, {})).status).toBe(201);
    const now = Date.now();
    const appId = await insertApplication('cascade-app');
    const mappingId = newId(systemClock);
    await db.insertInto('mappings').values({ id: mappingId, app_id: appId, claim: 'roles', value_json: '"dev"', description: '', created_at: now, updated_at: now }).execute();
    await db.insertInto('mapping_groups').values({ mapping_id: mappingId, group_id: group.id }).execute();

    expect((await admin.delete(`/api/v1/groups/${group.id}`)).status).toBe(204);
    expect(await db.selectFrom('memberships').selectAll().where('group_id', '=', group.id).execute()).toEqual([]);
    expect(await db.selectFrom('mapping_groups').selectAll().where('group_id', '=', group.id).execute()).toEqual([]);
    expect(await db.selectFrom('mappings').select('id').where('id', '=', mappingId).execute()).toHaveLength(1);
    const deleted = (await auditOf(group.id)).find((e) => e.action === 'group.deleted');
    expect(deleted?.data).toEqual({ name: 'cascade', description: '', memberships_removed: 1 });
  });

  it('refuses to delete a group that a template references, naming the templates', async () => {
    const { admin } = server();
    const { db } = server().app.core;
    const approvers = await createGroup('template-approvers');
    const escalation = await createGroup('template-escalation');
    const appId = await insertApplication('template-app');
    const byApprovers = await insertTemplate('Prod database', appId, null);
    const byEscalation = await insertTemplate('Billing admin', appId, escalation.id);
    await db.insertInto('template_groups').values({ template_id: byApprovers, group_id: approvers.id, role: 'approver' }).execute();

    const refused = await admin.delete(`/api/v1/groups/${approvers.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('group_in_use');
    expect(refused.body.templates).toEqual([{ id: byApprovers, name: 'Prod database' }]);
    expect(refused.body.detail).toContain('Prod database');
    const escalationRefused = await admin.delete(`/api/v1/groups/${escalation.id}`);
    expect(escalationRefused.status).toBe(409);
    expect(escalationRefused.body.templates).toEqual([{ id: byEscalation, name: 'Billing admin' }]);
    expect((await admin.get(`/api/v1/groups/${approvers.id}`)).status).toBe(200);

    await db.deleteFrom('template_groups').where('template_id', '=', byApprovers).execute();
    expect((await admin.delete(`/api/v1/groups/${approvers.id}`)).status).toBe(204);
  });

  it('needs a caller: 401 on every endpoint without a session or token', async () => {
    const group = await createGroup('anon-target');
    const user = await createUser('anon-target@example.test');
    const anonymous = new ApiClient(server().url);
    const base = `/api/v1/groups/${group.id}`;
    const responses = [
      await anonymous.get('/api/v1/groups'),
      await anonymous.post('/api/v1/groups', { name: 'anon' }),
      await anonymous.get(base),
      await anonymous.patch(base, { name: 'anon' }),
      await anonymous.delete(base),
      await anonymous.get(`${base}/members`),
      await anonymous.request('PUT', `${base}/members/${user.id}`, {}),
      await anonymous.delete(`${base}/members/${user.id}`),
      await anonymous.get(`/api/v1/users/${user.id}/groups`),
      await new ApiClient(server().url).withToken('not-a-real-token').get('/api/v1/groups'),
    ];
    for (const res of responses) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    }
    expect((await server().admin.get(base)).body.name).toBe('anon-target');
  });

  it('refuses non-admins with 403 on every admin endpoint, changing nothing', async () => {
    const group = await createGroup('admin-only');
    const user = await createUser('not-admin@example.test');
    const client = await signedIn('not-admin@example.test');
    const base = `/api/v1/groups/${group.id}`;
    const responses = [
      await client.get('/api/v1/groups'),
      await client.post('/api/v1/groups', { name: 'mine' }),
      await client.get(base),
      await client.patch(base, { name: 'mine' }),
      await client.delete(base),
      await client.get(`${base}/members`),
      await client.request('PUT', `${base}/members/${user.id}`, {}),
      await client.delete(`${base}/members/${user.id}`),
    ];
    for (const res of responses) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect((await server().admin.get(base)).body.name).toBe('admin-only');
    expect((await server().admin.get(`${base}/members`)).body.items).toEqual([]);
    expect((await server().admin.get('/api/v1/groups?name=mine')).body.items).toEqual([]);
  });
});
