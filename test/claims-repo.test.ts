import { CompiledQuery } from 'kysely';
import { expect, it } from 'vitest';
import { claimSourcesQuery, effectiveClaims } from '../src/modules/claims/claims.repo.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { addMember, createApp, createGroup, createMapping, createUser } from './helpers/oidc-fixtures.ts';

const T0 = 1_900_000_000_000;
const MIN = 60_000;

describeEachDialect('effectiveClaims on the database', (server, dialect) => {
  it('counts only live memberships of live groups, for this user and this app', async () => {
    const s = server();
    const db = s.app.core.db;
    const alice = await createUser(s, 'claims-alice@example.test');
    const bob = await createUser(s, 'claims-bob@example.test');
    const app = await createApp(s);
    const other = await createApp(s);

    const staff = await createGroup(s, 'claims-staff');
    const oncall = await createGroup(s, 'claims-oncall');
    const project = await createGroup(s, 'claims-project', T0 + 30 * MIN); // the group itself expires
    const bobsGroup = await createGroup(s, 'claims-bob-only');
    await addMember(s, staff, alice);
    await addMember(s, oncall, alice, T0 + 10 * MIN);
    await addMember(s, project, alice, T0 + 60 * MIN); // capped by the group's earlier expiry
    await addMember(s, bobsGroup, bob);

    await createMapping(s, app.id, 'roles', ['viewer'], [staff]);
    await createMapping(s, app.id, 'roles', ['admin'], [oncall]);
    await createMapping(s, app.id, 'project', 'apollo', [project]);
    await createMapping(s, app.id, 'bob_only', true, [bobsGroup]);
    await createMapping(s, app.id, 'sub', 'forged', [staff]);
    await createMapping(s, other.id, 'other_app', 'x', [staff]);
    await createMapping(s, app.id, 'shared', 'yes', [bobsGroup, staff]);

    expect(await effectiveClaims(db, alice, app.id, T0)).toEqual({
      claims: { project: 'apollo', roles: ['admin', 'viewer'], shared: 'yes' },
      expiresAt: T0 + 10 * MIN,
    });
    // After the membership lapses, its value is gone and the next expiry is the group's.
    expect(await effectiveClaims(db, alice, app.id, T0 + 10 * MIN)).toEqual({
      claims: { project: 'apollo', roles: ['viewer'], shared: 'yes' },
      expiresAt: T0 + 30 * MIN,
    });
    expect(await effectiveClaims(db, alice, app.id, T0 + 30 * MIN)).toEqual({ claims: { roles: ['viewer'], shared: 'yes' }, expiresAt: null });
    expect(await effectiveClaims(db, bob, app.id, T0)).toEqual({ claims: { bob_only: true, shared: 'yes' }, expiresAt: null });
    expect(await effectiveClaims(db, alice, other.id, T0)).toEqual({ claims: { other_app: 'x' }, expiresAt: null });
    expect(await effectiveClaims(db, 'no-such-user', app.id, T0)).toEqual({ claims: {}, expiresAt: null });
  });

  // SQLite's plan is stable on small tables; PostgreSQL's planner prefers scans there, so the check is SQLite's own.
  if (dialect === 'sqlite') it('reads through indexes, never scanning groups or memberships', async () => {
    const db = server().app.core.db;
    const compiled = claimSourcesQuery(db, 'u', 'a', T0).compile();
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
    expect(plan.rows.length).toBeGreaterThan(0);
    for (const row of plan.rows) expect(row.detail).not.toMatch(/^SCAN (g|ms|mg|groups|memberships|mapping_groups)\b/);
  });
});
