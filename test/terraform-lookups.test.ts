import { expect, it } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { SYSTEM_GROUP_PREFIX } from '../src/modules/groups/system-groups.ts';
import { newId } from '../src/security/ids.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

const HOUR = 3_600_000;

/**
 * The exact lookups the Terraform provider's data sources and membership resource read:
 * a group by name, a user by email, one membership. Each answers one object or a clean 404.
 */
describeEachDialect('lookups for the Terraform provider', (server) => {
  const password = 'a long enough password';

  async function createUser(email: string, extra: Record<string, unknown> = {}) {
    const res = await server().admin.post('/api/v1/users', { email, name: email.split('@')[0], password, must_change_password: false, ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; email: string; name: string };
  }

  async function signedIn(email: string) {
    const client = new ApiClient(server().url);
    expect((await client.signIn(email, password)).status).toBe(200);
    return client;
  }

  it('finds a group by its exact name, case included, and never a system group', async () => {
    const { admin, app } = server();
    const created = await admin.post('/api/v1/groups', { name: 'Ops / On-call leads', description: 'lookup' });
    expect(created.status).toBe(201);
    await admin.post('/api/v1/groups', { name: 'Ops / On-call leads (old)' });

    const found = await admin.get(`/api/v1/groups/by-name/${encodeURIComponent('Ops / On-call leads')}`);
    expect(found.status).toBe(200);
    expect(found.body).toEqual(created.body);

    // The whole name in any case (DESIGN), not a search: a part of the name is not this group.
    expect((await admin.get(`/api/v1/groups/by-name/${encodeURIComponent('ops / ON-CALL leads')}`)).body).toEqual(created.body);
    expect((await admin.get(`/api/v1/groups/by-name/${encodeURIComponent('On-call')}`)).status).toBe(404);
    // Names that differ only in case are both legal: the lookup refuses to pick one.
    expect((await admin.post('/api/v1/groups', { name: 'OPS / On-call leads' })).status).toBe(201);
    const ambiguous = await admin.get(`/api/v1/groups/by-name/${encodeURIComponent('Ops / On-call leads')}`);
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.code).toBe('group_name_ambiguous');
    const missing = await admin.get('/api/v1/groups/by-name/nobody-has-this-name');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found', detail: 'group not found' });

    const now = Date.now();
    const systemName = `${SYSTEM_GROUP_PREFIX}${newId(systemClock)}`;
    await app.core.db.insertInto('groups').values({ id: newId(systemClock), name: systemName, description: '', is_system: 1, expires_at: now + HOUR, created_at: now, updated_at: now }).execute();
    expect((await admin.get(`/api/v1/groups/by-name/${encodeURIComponent(systemName)}`)).status).toBe(404);
  });

  it('finds a live user by email in any case; a deleted user is gone', async () => {
    const { admin } = server();
    const user = await createUser('lookup.person@example.test', { is_admin: false });
    const found = await admin.get('/api/v1/users/by-email/Lookup.Person%40EXAMPLE.test');
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: user.id, email: 'lookup.person@example.test', is_admin: false, disabled: false });

    expect((await admin.get('/api/v1/users/by-email/lookup.person%40example.org')).status).toBe(404);
    expect((await admin.delete(`/api/v1/users/${user.id}`)).status).toBe(204);
    const gone = await admin.get('/api/v1/users/by-email/lookup.person%40example.test');
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ code: 'not_found', detail: 'user not found' });
  });

  it('reads one live membership; a non-member, an expired membership and an unknown group are 404', async () => {
    const { admin, app } = server();
    const group = (await admin.post('/api/v1/groups', { name: 'membership lookup' })).body as { id: string };
    const member = await createUser('lookup.member@example.test');
    const outsider = await createUser('lookup.outsider@example.test');
    const until = new Date(Date.now() + HOUR).toISOString();
    const put = await admin.request('PUT', `/api/v1/groups/${group.id}/members/${member.id}`, { expires_at: until });
    expect(put.status).toBe(201);

    const read = await admin.get(`/api/v1/groups/${group.id}/members/${member.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(put.body);
    expect(read.body.expires_at).toBe(until);

    const notMember = await admin.get(`/api/v1/groups/${group.id}/members/${outsider.id}`);
    expect(notMember.status).toBe(404);
    expect(notMember.body.detail).toBe('membership not found');
    expect((await admin.get(`/api/v1/groups/${newId(systemClock)}/members/${member.id}`)).body.detail).toBe('group not found');

    await app.core.db.updateTable('memberships').set({ expires_at: Date.now() - 1000 }).where('group_id', '=', group.id).where('user_id', '=', member.id).execute();
    expect((await admin.get(`/api/v1/groups/${group.id}/members/${member.id}`)).status).toBe(404);
  });

  it('rejects malformed lookups with a 400 naming the parameter', async () => {
    const { admin } = server();
    const badEmail = await admin.get('/api/v1/users/by-email/not-an-email');
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.errors[0].field).toBe('params.email');
    const blankName = await admin.get('/api/v1/groups/by-name/%20%20');
    expect(blankName.status).toBe(400);
    expect(blankName.body.errors[0].field).toBe('params.name');
    const badIds = await admin.get('/api/v1/groups/not-a-uuid/members/also-not');
    expect(badIds.status).toBe(400);
    expect(badIds.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['params.id', 'params.user_id']);
  });

  it('answers 401 without credentials and 403 to a non-admin', async () => {
    const { admin } = server();
    const group = (await admin.post('/api/v1/groups', { name: 'lookup authz' })).body as { id: string };
    const plain = await createUser('lookup.plain@example.test');
    expect((await admin.request('PUT', `/api/v1/groups/${group.id}/members/${plain.id}`, {})).status).toBe(201);
    const paths = ['/api/v1/groups/by-name/lookup%20authz', '/api/v1/users/by-email/lookup.plain%40example.test', `/api/v1/groups/${group.id}/members/${plain.id}`];

    const anonymous = new ApiClient(server().url);
    const user = await signedIn('lookup.plain@example.test');
    for (const path of paths) {
      expect((await anonymous.get(path)).status, path).toBe(401);
      // Even their own email and membership: lookups are for admins (users read themselves by id).
      expect((await user.get(path)).status, path).toBe(403);
    }
  });
});
