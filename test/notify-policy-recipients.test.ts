import { beforeAll, expect, it } from 'vitest';
import { resolveApproverRecipients, type ApproverStage } from '../src/modules/notifications/approver-recipients.ts';
import { createTemplatesRepo } from '../src/modules/templates/templates.repo.ts';
import type { Template } from '../src/modules/templates/templates.types.ts';
import { createGroup, createPerson, setUpAccess, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/** resolveApproverRecipients against real databases: pools, live members, open templates, round_robin turns. */
describeEachDialect('approver recipients', (server, dialect) => {
  let s: AccessSetup;
  const db = () => server().app.core.db;
  beforeAll(async () => {
    s = await setUpAccess(server());
  });

  const load = async (id: string): Promise<Template> => (await createTemplatesRepo(db()).findLiveById(id))!;
  const resolve = (template: Template, requesterId: string, stage: ApproverStage = 'submitted') =>
    db()
      .transaction()
      .execute((trx) => resolveApproverRecipients(trx, dialect, server().app.core.clock, template, { id: 'r', requester_id: requesterId }, stage));
  const people = (n: number, label: string) => Promise.all(Array.from({ length: n }, (_, i) => createPerson(server(), `${label}${i}`)));
  const ids = (ps: Person[]) => ps.map((p) => p.id);
  const setJoined = (groupId: string, userId: string, at: number) =>
    db().updateTable('memberships').set({ created_at: at }).where('group_id', '=', groupId).where('user_id', '=', userId).execute();
  const position = async (templateId: string) =>
    (await db().selectFrom('round_robin_positions').selectAll().where('template_id', '=', templateId).execute()).map((r) => ({ pool: r.pool, position: Number(r.position) }));

  it('notifies every live approver on submission under "all", never the requester', async () => {
    const g = await createGroup(server(), 'approvers-with-requester', [s.approver.id, s.requester.id, s.secondApprover.id]);
    const t = await load(await s.template({ approver_group_ids: [g], notification_policy: 'all' }));
    const got = await resolve(t, s.requester.id);
    expect([...got].sort()).toEqual([s.approver.id, s.secondApprover.id].sort());
    expect(got).not.toContain(s.requester.id);
  });

  it('orders members by when they joined, then by user id, and groups in template order', async () => {
    const [p0, p1, p2, p3] = await people(4, 'ordered');
    // p3 joined first, p0 and p2 at the same moment (tie broken by user id), p1 last.
    const first = await createGroup(server(), 'first', [p0!.id, p1!.id, p2!.id, p3!.id]);
    const second = await createGroup(server(), 'second', [s.approver.id, p1!.id]);
    await setJoined(first, p3!.id, 1_000);
    await setJoined(first, p2!.id, 2_000);
    await setJoined(first, p0!.id, 2_000);
    await setJoined(first, p1!.id, 3_000);
    const tie = [p0!.id, p2!.id].sort();
    const t = await load(await s.template({ approver_group_ids: [second, first], notification_policy: 'all' }));
    // approver_group_ids come back sorted by id (creation order): `first` was created before `second`.
    expect(t.approver_group_ids).toEqual([first, second]);
    expect(await resolve(t, s.requester.id)).toEqual([p3!.id, ...tie, p1!.id, s.approver.id]);

    const firstN = await load(await s.template({ approver_group_ids: [first, second], notification_policy: 'first_n', notification_count: 2 }));
    expect(await resolve(firstN, s.requester.id)).toEqual([p3!.id, tie[0]]);
    // N counts after the requester is left out, and never spills into the second group.
    expect(await resolve(firstN, p3!.id)).toEqual(tie);
    const firstMany = await load(await s.template({ approver_group_ids: [first, second], notification_policy: 'first_n', notification_count: 50 }));
    expect(await resolve(firstMany, s.requester.id)).toEqual([p3!.id, ...tie, p1!.id]);
  });

  it('leaves out disabled, deleted and expired members and members of an expired group', async () => {
    const [live, disabled, deleted, lapsed, later] = await people(5, 'liveness');
    const g = await createGroup(server(), 'mixed', ids([live!, disabled!, deleted!, lapsed!, later!]));
    expect((await server().admin.patch(`/api/v1/users/${disabled!.id}`, { disabled: true })).status).toBe(200);
    await db().updateTable('users').set({ deleted_at: 1 }).where('id', '=', deleted!.id).execute();
    const now = server().app.core.clock.now();
    await db().updateTable('memberships').set({ expires_at: now - 1 }).where('group_id', '=', g).where('user_id', '=', lapsed!.id).execute();
    await db().updateTable('memberships').set({ expires_at: now + 3_600_000 }).where('group_id', '=', g).where('user_id', '=', later!.id).execute();
    const t = await load(await s.template({ approver_group_ids: [g], notification_policy: 'all' }));
    expect([...(await resolve(t, s.requester.id))].sort()).toEqual([live!.id, later!.id].sort());

    await db().updateTable('groups').set({ expires_at: now - 1 }).where('id', '=', g).execute();
    expect(await resolve(t, s.requester.id)).toEqual([]);
    await db().updateTable('groups').set({ expires_at: null }).where('id', '=', g).execute();
  });

  it('asks the escalation group on escalation, and nobody when there is none', async () => {
    const t = await load(s.templateId);
    expect(await resolve(t, s.requester.id, 'escalated')).toEqual([s.escalationMember.id]);
    // The escalation member asking for access is not asked to decide it.
    expect(await resolve(t, s.escalationMember.id, 'escalated')).toEqual([]);
    const noEscalation = await load(await s.template({ escalation_after_mins: null, escalation_group_id: null }));
    expect(await resolve(noEscalation, s.requester.id, 'escalated')).toEqual([]);
  });

  it('sends an open template to its escalation group, or else to the active admins by id', async () => {
    const open = await load(await s.template({ approval: 'open', approver_group_ids: [] }));
    expect(await resolve(open, s.requester.id)).toEqual([s.escalationMember.id]);

    const disabledAdmin = await createPerson(server(), 'disabled-admin', { isAdmin: true });
    expect((await server().admin.patch(`/api/v1/users/${disabledAdmin.id}`, { disabled: true })).status).toBe(200);
    const openNoEscalation = await load(await s.template({ approval: 'open', approver_group_ids: [], escalation_after_mins: null, escalation_group_id: null }));
    const admins = (await db().selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).where('deleted_at', 'is', null).orderBy('id').execute()).map(
      (u) => u.id,
    );
    const got = await resolve(openNoEscalation, s.requester.id);
    expect(got).toEqual(admins);
    expect(got).toContain(s.admin.id);
    expect(got).not.toContain(disabledAdmin.id);
    expect(got).toEqual([...got].sort());
    // An admin asking is left out of the admins asked.
    expect(await resolve(openNoEscalation, s.admin.id)).toEqual(admins.filter((id) => id !== s.admin.id));
  });

  it('picks N distinct random approvers across the approver groups', async () => {
    const crowd = await people(5, 'random');
    const g1 = await createGroup(server(), 'random-a', ids(crowd.slice(0, 3)));
    const g2 = await createGroup(server(), 'random-b', [...ids(crowd.slice(2)), s.requester.id]);
    const t = await load(await s.template({ approver_group_ids: [g1, g2], notification_policy: 'random_n', notification_count: 3 }));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const got = await resolve(t, s.requester.id);
      expect(got).toHaveLength(3);
      expect(new Set(got).size).toBe(3);
      for (const id of got) seen.add(id);
    }
    expect([...seen].sort()).toEqual(ids(crowd).sort());
  });

  it('takes round_robin turns in order, keeps the position in the database and does not move it for nobody', async () => {
    const crew = await people(3, 'rr');
    const g = await createGroup(server(), 'rr', [...ids(crew), s.requester.id]);
    const order = ids(crew);
    const t = await load(await s.template({ approver_group_ids: [g], notification_policy: 'round_robin' }));
    const picks: string[] = [];
    for (let i = 0; i < 5; i++) picks.push(...(await resolve(t, s.requester.id)));
    const joined = (await db().selectFrom('memberships').select(['user_id', 'created_at']).where('group_id', '=', g).orderBy('created_at').orderBy('user_id').execute()).map(
      (m) => m.user_id,
    );
    const cycle = joined.filter((id) => id !== s.requester.id);
    expect([...cycle].sort()).toEqual([...order].sort());
    expect(picks).toEqual([cycle[0], cycle[1], cycle[2], cycle[0], cycle[1]]);
    expect(await position(t.id)).toEqual([{ pool: g, position: 5 }]);

    // A fresh service over the same database picks up where it stood (the row is the state).
    const again = await load(t.id);
    expect(await resolve(again, s.requester.id)).toEqual([cycle[2]]);

    // Escalation keeps its own turn, keyed by the escalation group.
    await resolve(t, s.requester.id, 'escalated');
    expect(await position(t.id)).toEqual(
      expect.arrayContaining([
        { pool: g, position: 6 },
        { pool: s.escalationGroupId, position: 1 },
      ]),
    );

    // Nobody to ask: no turn is taken.
    const lonely = await createGroup(server(), 'rr-lonely', [s.requester.id]);
    const t2 = await load(await s.template({ approver_group_ids: [lonely], notification_policy: 'round_robin' }));
    expect(await resolve(t2, s.requester.id)).toEqual([]);
    expect(await position(t2.id)).toEqual([]);
  });

  it('keys round_robin by the sorted approver group ids', async () => {
    const [a, b] = await people(2, 'rr-key');
    const g1 = await createGroup(server(), 'rr-key-1', [a!.id]);
    const g2 = await createGroup(server(), 'rr-key-2', [b!.id]);
    const t = await load(await s.template({ approver_group_ids: [g2, g1], notification_policy: 'round_robin' }));
    expect(await resolve(t, s.requester.id)).toEqual([a!.id]);
    expect(await resolve(t, s.requester.id)).toEqual([b!.id]);
    expect(await position(t.id)).toEqual([{ pool: [g1, g2].sort().join(','), position: 2 }]);
  });

  it('never gives two concurrent submissions the same round_robin member', async () => {
    const crew = await people(3, 'rr-race');
    const g = await createGroup(server(), 'rr-race', ids(crew));
    const t = await load(await s.template({ approver_group_ids: [g], notification_policy: 'round_robin' }));
    // Each transaction holds on after its pick, so on PostgreSQL they really overlap;
    // the first turn also races the insert of the position row.
    const submit = () =>
      db()
        .transaction()
        .execute(async (trx) => {
          const got = await resolveApproverRecipients(trx, dialect, server().app.core.clock, t, { id: 'r', requester_id: s.requester.id }, 'submitted');
          await new Promise((r) => setTimeout(r, 50));
          return got;
        });
    const firstPair = await Promise.all([submit(), submit()]);
    expect(firstPair.flat()).toHaveLength(2);
    expect(new Set(firstPair.flat()).size).toBe(2);

    const six = await Promise.all(Array.from({ length: 6 }, submit));
    const all = [...firstPair, ...six].flat();
    expect(all).toHaveLength(8);
    const counts = new Map<string, number>();
    for (const id of all) counts.set(id, (counts.get(id) ?? 0) + 1);
    // 8 turns over 3 people: a fair rotation gives 3, 3 and 2.
    expect([...counts.values()].sort()).toEqual([2, 3, 3]);
    expect(await position(t.id)).toEqual([{ pool: g, position: 8 }]);
  });
});
