import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient, type ApiResponse } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startSecondProcess, type RunningInterim } from './helpers/interim-process.ts';

/**
 * "Cannot demote, disable or delete the last admin" when two admins act on each other at
 * the same moment. The two requests go to two server processes over one database (two
 * connections: on SQLite one connection would serialise everything and prove nothing).
 */
describeEachDialect('the last admin under concurrency', (server, dialect) => {
  let second: RunningInterim | undefined;
  let secondUrl = '';

  beforeAll(async () => {
    second = await startSecondProcess(server());
    secondUrl = second.url;
  });

  afterAll(async () => {
    await second?.stop();
  });

  const activeAdmins = async () =>
    (await server().app.core.db.selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).where('deleted_at', 'is', null).execute()).map((r) => r.id);

  interface Admin {
    id: string;
    /** This admin's token, against the in-process server and the second process. */
    here: ApiClient;
    there: ApiClient;
  }

  /** Leaves exactly two active admins: the survivor of the previous round (or the bootstrap admin) and a new one. */
  async function twoAdmins(survivor: Admin | undefined, label: string): Promise<[Admin, Admin]> {
    const s = server();
    let first = survivor;
    if (!first) {
      const me = await s.admin.get('/api/v1/session');
      first = { id: me.body.user.id, here: s.admin, there: new ApiClient(secondUrl).withToken(s.adminToken) };
    }
    const created = await first.here.post('/api/v1/users', { email: `${label}@example.test`, name: label, is_admin: true });
    expect(created.status).toBe(201);
    const token = await first.here.post('/api/v1/api-tokens', { name: label, user_id: created.body.id });
    expect(token.status).toBe(201);
    const other: Admin = { id: created.body.id, here: new ApiClient(s.url).withToken(token.body.token), there: new ApiClient(secondUrl).withToken(token.body.token) };
    expect((await activeAdmins()).sort()).toEqual([first.id, other.id].sort());
    return [first, other];
  }

  /**
   * Exactly one of two mutual removals succeeds and one active admin is left. The other is
   * refused with 409 last_admin when the two overlapped, or 401 when the winner had
   * already committed (and so ended the loser's token) before the loser was authenticated.
   */
  function expectOneSurvivor(results: ApiResponse[], okStatus: number, pair: [Admin, Admin], left: string[]): Admin {
    expect(results.filter((r) => r.status === okStatus)).toHaveLength(1);
    const refused = results.find((r) => r.status !== okStatus)!;
    expect([409, 401]).toContain(refused.status);
    if (refused.status === 409) expect(refused.body.code).toBe('last_admin');
    expect(left).toHaveLength(1);
    return pair.find((a) => a.id === left[0])!;
  }

  let survivor: Admin | undefined;

  it('lets only one of two concurrent demotions, disables and deletes of the last two admins pass', async () => {
    let overlapped = 0;
    for (const [round, act] of [
      ['demote', (by: ApiClient, id: string) => by.patch(`/api/v1/users/${id}`, { is_admin: false })],
      ['disable', (by: ApiClient, id: string) => by.patch(`/api/v1/users/${id}`, { disabled: true })],
      ['delete', (by: ApiClient, id: string) => by.delete(`/api/v1/users/${id}`)],
    ] as const) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const pair = await twoAdmins(survivor, `${round}-${attempt}-${dialect}`);
        const [a, b] = pair;
        // Each admin removes the other, at once, through different processes.
        const results = await Promise.all([act(a.here, b.id), act(b.there, a.id)]);
        survivor = expectOneSurvivor(results, round === 'delete' ? 204 : 200, pair, await activeAdmins());
        if (results.some((r) => r.status === 409)) overlapped++;
      }
    }
    // The two removals really ran at the same time (at least once), and the guard held.
    expect(overlapped).toBeGreaterThan(0);
  });

  it('refuses removing the last admin outright, bad input, and callers who are not admins', async () => {
    const last = survivor!;
    const self = await last.here.patch(`/api/v1/users/${last.id}`, { is_admin: false });
    expect(self.status).toBe(409);
    expect(self.body.code).toBe('last_admin');
    expect((await last.there.patch(`/api/v1/users/${last.id}`, { disabled: true })).status).toBe(409);
    expect((await last.here.patch(`/api/v1/users/${last.id}`, { is_admin: 'no' })).status).toBe(400);

    const created = await last.here.post('/api/v1/users', { email: `plain-${dialect}@example.test`, name: 'plain', password: 'a long enough password', must_change_password: false });
    const plain = new ApiClient(server().url);
    expect((await plain.signIn(`plain-${dialect}@example.test`, 'a long enough password')).status).toBe(200);
    expect((await plain.patch(`/api/v1/users/${last.id}`, { is_admin: false })).status).toBe(403);
    expect((await plain.delete(`/api/v1/users/${last.id}`)).status).toBe(403);
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.patch(`/api/v1/users/${last.id}`, { is_admin: false })).status).toBe(401);
    expect((await anonymous.delete(`/api/v1/users/${created.body.id}`)).status).toBe(401);
    expect(await activeAdmins()).toEqual([last.id]);
  });
});
