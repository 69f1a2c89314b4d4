import { afterEach, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { SYSTEM_GROUP_PREFIX } from '../src/modules/groups/system-groups.ts';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const HOUR = 3_600_000;

describeEachDialect('group memberships API', (server) => {
  const password = 'a long enough password';

  afterEach(() => {
    vi.useRealTimers();
  });

  async function createGroup(name: string) {
    const res = await server().admin.post('/api/v1/groups', { name, description: `about ${name}` });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string };
  }

  async function createUser(email: string) {
    const res = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password, must_change_password: false });
    expect(res.status).toBe(201);
    return res.body as { id: string; email: string; name: string };
  }

  async function signedIn(email: string) {
    const client = new ApiClient(server().url);
    expect((await client.signIn(email, password)).status).toBe(200);
    return client;
  }

  const put = (client: ApiClient, groupId: string, userId: string, body: unknown = {}) => client.request('PUT', `/api/v1/groups/${groupId}/members/${userId}`, body);

  async function membershipAudit(groupId: string) {
    const rows = await server().app.core.db.selectFrom('audit_events').selectAll().where('target_id', '=', groupId).where('action', 'like', 'membership.%').orderBy('seq').execute();
    return rows.map((r) => ({ action: r.action, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  async function insertSystemGroup(expiresAt: number | null) {
    const now = Date.now();
    const row = { id: newId(systemClock), name: `${SYSTEM_GROUP_PREFIX}${newId(systemClock)}`, description: 'temporary grant', is_system: 1 as const, expires_at: expiresAt, created_at: now, updated_at: now };
    await server().app.core.db.insertInto('groups').values(row).execute();
    return row;
  }

  it('adds, updates and removes a member idempotently, auditing each change once', async () => {
    const { admin } = server();
    const group = await createGroup('members-crud');
    const user = await createUser('member-crud@example.test');

    const added = await put(admin, group.id, user.id);
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ user_id: user.id, email: user.email, name: user.name, expires_at: null, created_at: expect.any(String) });

    // The same PUT again changes nothing and writes no second event.
    const again = await put(admin, group.id, user.id, { expires_at: null });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(added.body);

    // No body at all means the same: a membership that never expires.
    const bodiless = await admin.request('PUT', `/api/v1/groups/${group.id}/members/${user.id}`);
    expect(bodiless.status).toBe(200);
    expect(bodiless.body).toEqual(added.body);

    const until = new Date(Date.now() + 2 * HOUR).toISOString();
    const updated = await put(admin, group.id, user.id, { expires_at: until });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ ...added.body, expires_at: until });

    const list = await admin.get(`/api/v1/groups/${group.id}/members`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [updated.body], next_cursor: null });

    expect((await admin.delete(`/api/v1/groups/${group.id}/members/${user.id}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/groups/${group.id}/members`)).body.items).toEqual([]);
    const gone = await admin.delete(`/api/v1/groups/${group.id}/members/${user.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('not_found');

    expect(await membershipAudit(group.id)).toEqual([
      { action: 'membership.added', data: { user_id: user.id, expires_at: null, replaced_expired: false } },
      { action: 'membership.updated', data: { user_id: user.id, before: { expires_at: null }, after: { expires_at: until } } },
      { action: 'membership.removed', data: { user_id: user.id, expires_at: until } },
    ]);
  });

  it('rejects bad membership input, and unknown users and groups', async () => {
    const { admin } = server();
    const group = await createGroup('members-bad-input');
    const user = await createUser('member-bad@example.test');

    const past = await put(admin, group.id, user.id, { expires_at: new Date(Date.now() - 60_000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([{ field: 'expires_at', message: 'must be in the future' }]);

    const notADate = await put(admin, group.id, user.id, { expires_at: 'tomorrow' });
    expect(notADate.status).toBe(400);
    expect(notADate.body.errors[0].field).toBe('expires_at');
    const noOffset = await put(admin, group.id, user.id, { expires_at: '2999-01-01T00:00:00' });
    expect(noOffset.status).toBe(400);
    expect((await put(admin, group.id, user.id, { role: 'owner' })).status).toBe(400);
    expect((await put(admin, group.id, user.id, 'forever')).status).toBe(400);
    expect((await put(admin, group.id, 'not-a-uuid')).status).toBe(400);
    expect((await admin.get(`/api/v1/groups/${group.id}/members?cursor=nope`)).status).toBe(400);
    expect((await admin.get(`/api/v1/groups/${group.id}/members`)).body.items).toEqual([]);

    const unknownUser = await put(admin, group.id, newId(systemClock));
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.body.detail).toBe('user not found');
    const unknownGroup = await put(admin, newId(systemClock), user.id);
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.body.detail).toBe('group not found');
    expect((await admin.get(`/api/v1/groups/${newId(systemClock)}/members`)).status).toBe(404);
    expect((await admin.delete(`/api/v1/groups/${newId(systemClock)}/members/${user.id}`)).status).toBe(404);
    expect((await admin.delete(`/api/v1/groups/${group.id}/members/${user.id}`)).status).toBe(404);

    // A deleted user cannot be added back.
    expect((await admin.delete(`/api/v1/users/${user.id}`)).status).toBe(204);
    expect((await put(admin, group.id, user.id)).status).toBe(404);
    expect(await membershipAudit(group.id)).toEqual([]);
  });

  it('deleting a user ends every membership of theirs, expired ones too', async () => {
    const { admin } = server();
    const [a, b] = [await createGroup('deleted-member-a'), await createGroup('deleted-member-b')];
    const user = await createUser('deleted-member@example.com');
    const other = await createUser('kept-member@example.com');
    expect((await put(admin, a.id, user.id)).status).toBe(201);
    expect((await put(admin, b.id, user.id, { expires_at: new Date(Date.now() + HOUR).toISOString() })).status).toBe(201);
    expect((await put(admin, a.id, other.id)).status).toBe(201);
    const db = server().app.core.db;
    const rowsOf = async (userId: string) => (await db.selectFrom('memberships').select('group_id').where('user_id', '=', userId).execute()).length;
    // One of them already expired: it goes too.
    await db.updateTable('memberships').set({ expires_at: Date.now() - HOUR }).where('user_id', '=', user.id).where('group_id', '=', b.id).execute();

    expect((await admin.delete(`/api/v1/users/${user.id}`)).status).toBe(204);
    expect(await rowsOf(user.id)).toBe(0);
    expect(await rowsOf(other.id)).toBe(1);
  });

  it('paginates members by user id', async () => {
    const { admin } = server();
    const group = await createGroup('members-pages');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const user = await createUser(`member-page-${i}@example.test`);
      ids.push(user.id);
      expect((await put(admin, group.id, user.id)).status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: { user_id: string }[]; next_cursor: string | null } } = await admin.get(`/api/v1/groups/${group.id}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((m) => m.user_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort());
  });

  it('treats an expired membership as gone: unlisted, not removable, replaced by PUT', async () => {
    const { admin } = server();
    const group = await createGroup('members-expiry');
    const user = await createUser('member-expiry@example.test');
    const stays = await createUser('member-stays@example.test');
    const start = Date.now();
    const until = new Date(start + HOUR).toISOString();
    expect((await put(admin, group.id, user.id, { expires_at: until })).status).toBe(201);
    expect((await put(admin, group.id, stays.id)).status).toBe(201);
    expect((await admin.get(`/api/v1/groups/${group.id}/members`)).body.items).toHaveLength(2);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start + HOUR + 1000);

    const listed = await admin.get(`/api/v1/groups/${group.id}/members`);
    expect(listed.body.items.map((m: { user_id: string }) => m.user_id)).toEqual([stays.id]);
    expect((await admin.get(`/api/v1/users/${user.id}/groups`)).body.items).toEqual([]);
    expect((await admin.delete(`/api/v1/groups/${group.id}/members/${user.id}`)).status).toBe(404);

    // Re-adding replaces the dead row: a fresh membership with a new start.
    const readded = await put(admin, group.id, user.id);
    expect(readded.status).toBe(201);
    expect(readded.body.expires_at).toBeNull();
    expect(Date.parse(readded.body.created_at)).toBeGreaterThanOrEqual(start + HOUR + 1000);
    expect((await admin.get(`/api/v1/groups/${group.id}/members`)).body.items).toHaveLength(2);

    const events = await membershipAudit(group.id);
    expect(events.at(-1)).toEqual({ action: 'membership.added', data: { user_id: user.id, expires_at: null, replaced_expired: true } });
  });

  it("lists a user's live groups, system grants flagged, to the user and admins only", async () => {
    const { admin } = server();
    const alice = await createUser('groups-alice@example.test');
    const bob = await createUser('groups-bob@example.test');
    const team = await createGroup('groups-team');
    const contractors = await createGroup('groups-contractors');
    const now = Date.now();
    const memberUntil = new Date(now + 3 * HOUR).toISOString();
    expect((await put(admin, team.id, alice.id)).status).toBe(201);
    expect((await put(admin, contractors.id, alice.id, { expires_at: memberUntil })).status).toBe(201);
    expect((await put(admin, team.id, bob.id)).status).toBe(201);

    // A live grant group ending before the membership, and one that has already ended.
    const grant = await insertSystemGroup(now + HOUR);
    const endedGrant = await insertSystemGroup(now - 1000);
    const { db } = server().app.core;
    await db.insertInto('memberships').values({ group_id: grant.id, user_id: alice.id, expires_at: now + 2 * HOUR, created_at: now }).execute();
    await db.insertInto('memberships').values({ group_id: endedGrant.id, user_id: alice.id, expires_at: null, created_at: now }).execute();

    const expected = [
      { group_id: team.id, name: 'groups-team', description: 'about groups-team', system: false, expires_at: null, grant: null },
      { group_id: contractors.id, name: 'groups-contractors', description: 'about groups-contractors', system: false, expires_at: memberUntil, grant: null },
      // A grant group whose request does not exist names no grant.
      { group_id: grant.id, name: grant.name, description: 'temporary grant', system: true, expires_at: new Date(now + HOUR).toISOString(), grant: null },
    ].sort((a, b) => a.group_id.localeCompare(b.group_id));

    const asAlice = await signedIn('groups-alice@example.test');
    const own = await asAlice.get(`/api/v1/users/${alice.id}/groups`);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ items: expected, next_cursor: null });

    const other = await asAlice.get(`/api/v1/users/${bob.id}/groups`);
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('not_found');

    const asAdmin = await admin.get(`/api/v1/users/${alice.id}/groups`);
    expect(asAdmin.body.items).toEqual(expected);
    const firstPage = await admin.get(`/api/v1/users/${alice.id}/groups?limit=2`);
    expect(firstPage.body.items).toEqual(expected.slice(0, 2));
    const secondPage = await admin.get(`/api/v1/users/${alice.id}/groups?limit=2&cursor=${firstPage.body.next_cursor}`);
    expect(secondPage.body).toEqual({ items: expected.slice(2), next_cursor: null });

    expect((await admin.get(`/api/v1/users/${bob.id}/groups`)).body.items.map((g: { group_id: string }) => g.group_id)).toEqual([team.id]);
    expect((await admin.get(`/api/v1/users/${newId(systemClock)}/groups`)).status).toBe(404);
    expect((await admin.get('/api/v1/users/not-a-uuid/groups')).status).toBe(400);
    expect((await admin.get(`/api/v1/users/${alice.id}/groups?limit=500`)).status).toBe(400);
    expect((await new ApiClient(server().url).get(`/api/v1/users/${alice.id}/groups`)).status).toBe(401);
  });
});
