/**
 * Issue 14 (usage facts): what recording a grant's use adds to the token path, measured on the
 * statement itself, where the noise of a shared machine matters least. On the token benchmark's
 * seeded SQLite database (bench/seed.ts; its temporary groups registered as grants), it runs,
 * interleaved in rounds:
 * - the claims statement as before issue 14 (mappings ⋈ live memberships),
 * - the claims statement as now (plus the grant's last use, a scalar subquery on grant_usage's primary key),
 * - the conditional write when the grant is stale (the update that sets last_used_at),
 * - the same write when the grant is fresh (what would run if the token path did not read first:
 *   it does, so a fresh grant runs no write at all).
 * On PostgreSQL (`--dialect postgres`: a throwaway cluster, fsync=off, synchronous_commit=on)
 * each statement is also a round trip over loopback.
 * Usage: node --experimental-strip-types bench/usage-facts.ts [--dialect sqlite|postgres] [--rounds N] [--calls N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/database.ts';
import { startPostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { claimSourcesWithUsageQuery } from '../src/modules/claims/claims.repo.ts';
import { createGrantUsageRepo } from '../src/modules/claims/usage.repo.ts';
import { liveMembershipsOfQuery } from '../src/modules/groups/memberships.repo.ts';
import { mappingLinksOfAppQuery } from '../src/modules/mappings/mappings.repo.ts';
import { prepare } from '../src/oidc/prepared.ts';
import { DEFAULT_SEED, seedTokenDatabase } from './seed.ts';

const { values } = parseArgs({ options: { dialect: { type: 'string', default: 'sqlite' }, rounds: { type: 'string', default: '7' }, calls: { type: 'string', default: '3000' } } });
const rounds = Number(values.rounds);
const calls = Number(values.calls);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(path.join(tmpdir(), 'interim-usage-facts-'));
const load0 = loadavg()[0]!;
const cluster = values.dialect === 'postgres' ? await startPostgresCluster({ durable: true }) : undefined;
try {
  const target = cluster ? ({ kind: 'postgres', url: cluster.url } as const) : ({ kind: 'sqlite', file: path.join(dir, 'interim.db') } as const);
  const state = await seedTokenDatabase(dir, DEFAULT_SEED, { scryptN: 1024, target });
  const database = openDatabase(target);
  const db = database.db;
  await sql`insert into grant_usage (group_id, request_id) select distinct group_id, 'bench-' || group_id from memberships where expires_at is not null`.execute(db);
  if (cluster) await sql`analyze`.execute(db);
  const appId = state.client.id;
  const users = state.users.slice(0, 200).map((u) => u.id);
  const now = Date.now();
  const before = prepare<{ user_id: string; app_id: string; at: number }, unknown>(db, (p) =>
    db
      .selectFrom(mappingLinksOfAppQuery(db, p('app_id')).as('m'))
      .innerJoin(liveMembershipsOfQuery(db, p('user_id'), p('at')).as('l'), 'l.group_id', 'm.group_id')
      .select(['m.claim', 'm.value_json', 'l.group_expires_at', 'l.membership_expires_at', 'l.membership_starts_at']),
  );
  const after = prepare<{ user_id: string; app_id: string; at: number }, unknown>(db, (p) => claimSourcesWithUsageQuery(db, p('user_id'), p('app_id'), p('at')));
  const grants = (await sql<{ group_id: string }>`select group_id from grant_usage`.execute(db)).rows.map((r) => r.group_id);
  const usage = createGrantUsageRepo(db);
  let clock = now;

  const time = async (fn: (i: number) => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await fn(i);
    return ((performance.now() - t0) * 1000) / calls;
  };
  const series: Record<string, number[]> = { 'claims statement before': [], 'claims statement now': [], 'write, stale grant': [], 'write, fresh grant': [] };
  for (let round = 0; round < rounds; round++) {
    const steps: [string, () => Promise<number>][] = [
      ['claims statement before', () => time((i) => before({ user_id: users[i % users.length]!, app_id: appId, at: now }))],
      ['claims statement now', () => time((i) => after({ user_id: users[i % users.length]!, app_id: appId, at: now }))],
      // Each call moves 61 s on, so every grant is stale again: one real write per call.
      ['write, stale grant', () => time((i) => usage.recordUse([grants[i % grants.length]!], (clock += 61_000)))],
      // Every grant written just now, then asked again 1 s later: the condition finds each fresh and writes nothing.
      [
        'write, fresh grant',
        async () => {
          await usage.recordUse(grants, (clock += 61_000));
          return time((i) => usage.recordUse([grants[i % grants.length]!], clock + 1000));
        },
      ],
    ];
    for (let k = 0; k < steps.length; k++) {
      const [name, run] = steps[(k + round) % steps.length]!;
      series[name]!.push(await run());
    }
  }
  await database.close();
  const out = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
  console.log(JSON.stringify({ dialect: values.dialect, rounds, calls, load: [Math.round(load0 * 10) / 10, Math.round(loadavg()[0]! * 10) / 10], median_us: out, runs_us: series }, null, 1));
} finally {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
