import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { Clock } from '../src/clock.ts';
import { createInAppNotifications, MAX_BODY_LENGTH, MAX_TITLE_LENGTH, type InAppNotification } from '../src/modules/notifications/in-app.ts';
import { createPerson, type Person } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/** In-app notifications: written once per (event, user), read only by their owner. */
describeEachDialect('in-app notifications', (server) => {
  let alice: Person;
  let bob: Person;
  let admin: Person;
  const t0 = Date.parse('2026-03-01T10:00:00Z');
  const at = (ms: number): Clock => ({ now: () => ms });
  const note = (userId: string, over: Partial<InAppNotification> = {}): InAppNotification => ({
    userId,
    eventId: randomUUID(),
    requestId: randomUUID(),
    kind: 'access_request.submitted',
    title: 'Access request needs your decision',
    body: 'Someone asks for 1 hour of access.',
    ...over,
  });
  const write = (rows: InAppNotification[], ms: number) => createInAppNotifications(server().app.core.db, rows, at(ms));

  beforeAll(async () => {
    [alice, bob, admin] = await Promise.all([createPerson(server(), 'alice'), createPerson(server(), 'bob'), createPerson(server(), 'nadmin', { isAdmin: true })]);
    // Three for Alice, a minute apart, and one for Bob.
    for (let i = 0; i < 3; i++) await write([note(alice.id, { title: `alice ${i}` })], t0 + i * 60_000);
    await write([note(bob.id, { title: 'bob 0' })], t0);
  });

  it('writes one notification per event and user, however often it is delivered', async () => {
    const carol = await createPerson(server(), 'carol');
    const row = note(carol.id);
    expect(await write([row, row], t0)).toBe(1);
    expect(await write([row], t0 + 1)).toBe(0);
    // The same event for another user is its own notification.
    expect(await write([{ ...row, userId: alice.id }, row], t0 + 2)).toBe(1);
    const mine = (await carol.client.get('/api/v1/notifications')).body;
    expect(mine.items).toHaveLength(1);
    expect(mine.unread_count).toBe(1);
    await server().app.core.db.deleteFrom('notifications').where('event_id', '=', row.eventId).execute();
    expect(await write([], t0)).toBe(0);
  });

  it('lists only your own, newest first, with the unread count', async () => {
    const res = await alice.client.get('/api/v1/notifications');
    expect(res.status).toBe(200);
    expect(res.body.items.map((n: { title: string }) => n.title)).toEqual(['alice 2', 'alice 1', 'alice 0']);
    expect(res.body.unread_count).toBe(3);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items[0]).toMatchObject({
      kind: 'access_request.submitted',
      body: 'Someone asks for 1 hour of access.',
      read: false,
      read_at: null,
      created_at: new Date(t0 + 120_000).toISOString(),
    });
    expect(res.body.items[0].request_id).toMatch(/^[0-9a-f-]{36}$/);
    const bobs = (await bob.client.get('/api/v1/notifications')).body;
    expect(bobs.items.map((n: { title: string }) => n.title)).toEqual(['bob 0']);
  });

  it('pages with a cursor', async () => {
    const first = await alice.client.get('/api/v1/notifications?limit=2');
    expect(first.body.items.map((n: { title: string }) => n.title)).toEqual(['alice 2', 'alice 1']);
    expect(first.body.next_cursor).toBe(first.body.items[1].id);
    const second = await alice.client.get(`/api/v1/notifications?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((n: { title: string }) => n.title)).toEqual(['alice 0']);
    expect(second.body.next_cursor).toBeNull();
    expect(second.body.unread_count).toBe(3);
  });

  it('marks one read, once, and filters unread', async () => {
    const list = (await alice.client.get('/api/v1/notifications')).body.items;
    const middle = list[1];
    const read = await alice.client.post(`/api/v1/notifications/${middle.id}/read`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: middle.id, read: true });
    expect(Date.parse(read.body.read_at)).not.toBeNaN();
    const again = await alice.client.post(`/api/v1/notifications/${middle.id}/read`, {});
    expect(again.status).toBe(200);
    expect(again.body.read_at).toBe(read.body.read_at);

    const unread = (await alice.client.get('/api/v1/notifications?unread=true')).body;
    expect(unread.items.map((n: { id: string }) => n.id)).toEqual([list[0].id, list[2].id]);
    expect(unread.unread_count).toBe(2);
    const everything = (await alice.client.get('/api/v1/notifications?unread=false')).body;
    expect(everything.items).toHaveLength(3);
  });

  it("answers 404 for someone else's notification, admins included, and changes nothing", async () => {
    const bobsId = (await bob.client.get('/api/v1/notifications')).body.items[0].id;
    for (const client of [alice.client, admin.client, server().admin]) {
      const res = await client.post(`/api/v1/notifications/${bobsId}/read`);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
    expect((await server().admin.get('/api/v1/notifications')).body.items.map((n: { id: string }) => n.id)).not.toContain(bobsId);
    expect((await bob.client.get('/api/v1/notifications')).body.unread_count).toBe(1);
    expect((await alice.client.post(`/api/v1/notifications/${randomUUID()}/read`)).status).toBe(404);
  });

  it('marks all of yours read and leaves others alone', async () => {
    const res = await alice.client.post('/api/v1/notifications/read-all');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ marked: 2 });
    expect((await alice.client.post('/api/v1/notifications/read-all', {})).body).toEqual({ marked: 0 });
    const after = (await alice.client.get('/api/v1/notifications')).body;
    expect(after.unread_count).toBe(0);
    expect(after.items.every((n: { read: boolean }) => n.read)).toBe(true);
    expect((await alice.client.get('/api/v1/notifications?unread=true')).body.items).toEqual([]);
    expect((await bob.client.get('/api/v1/notifications')).body.unread_count).toBe(1);
  });

  it('needs a signed-in caller', async () => {
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get('/api/v1/notifications')).status).toBe(401);
    expect((await anonymous.get('/api/v1/notifications?limit=nonsense')).status).toBe(401);
    expect((await anonymous.post(`/api/v1/notifications/${randomUUID()}/read`)).status).toBe(401);
    expect((await anonymous.post('/api/v1/notifications/read-all')).status).toBe(401);
  });

  it('refuses bad input with the field named', async () => {
    const cases = ['limit=0', 'limit=201', 'limit=abc', 'cursor=not-a-uuid', 'unread=yes'];
    for (const q of cases) {
      const res = await alice.client.get(`/api/v1/notifications?${q}`);
      expect(res.status, q).toBe(400);
      expect(JSON.stringify(res.body), q).toContain(q.split('=')[0]!);
    }
    expect((await alice.client.post('/api/v1/notifications/not-a-uuid/read')).status).toBe(400);
  });

  it('clips long titles and bodies and keeps titles on one line', async () => {
    const dave = await createPerson(server(), 'dave');
    await write([note(dave.id, { title: `line one\r\nline two ${'t'.repeat(500)}`, body: 'b'.repeat(10_000) })], t0);
    const [n] = (await dave.client.get('/api/v1/notifications')).body.items;
    expect(n.title.startsWith('line one line two t')).toBe(true);
    expect(n.title).toHaveLength(MAX_TITLE_LENGTH);
    expect(n.title.endsWith('…')).toBe(true);
    expect(n.body).toHaveLength(MAX_BODY_LENGTH);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await server().admin.get('/api/v1/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/notifications', '/api/v1/notifications/{id}/read', '/api/v1/notifications/read-all']),
    );
  });
});
