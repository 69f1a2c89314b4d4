import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Insertable } from 'kysely';
import { openDatabase, type DatabaseTarget, type Db } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { DB } from '../src/db/schema.ts';
import { newId } from '../src/security/ids.ts';
import { createPasswordHasher, DEFAULT_PASSWORD_HASHING } from '../src/security/passwords.ts';
import { randomSecret, sha256 } from '../src/security/tokens.ts';
import type { ClientCredentials } from './code-flow.ts';

/**
 * The data set of the token benchmark (issue 2, section 6): 10,000 users, each in 20
 * of 2,000 groups, and one confidential application whose mappings reach every user
 * through several groups. One membership per user is temporary (it ends in 30 days),
 * so every token takes the capping path: `roles` gains "admin" and `break_glass` only
 * through it, and the access token lives at most INTERIM_TEMP_ACCESS_TOKEN_TTL_SECS.
 *
 * Rows are bulk-inserted in one transaction, shaped exactly as the API writes them.
 * Every user shares one password hash (hashing 10,000 passwords would take minutes and
 * measures nothing here).
 */
export interface SeedOptions {
  users: number;
  groups: number;
  membershipsPerUser: number;
}

export const DEFAULT_SEED: SeedOptions = { users: 10_000, groups: 2_000, membershipsPerUser: 20 };
export const BENCH_PASSWORD = 'benchmark password, long enough';
/** The resource indicator that makes the refresh grant return a JWT access token. */
export const BENCH_RESOURCE = 'https://api.bench.test';
const ONCALL_GROUPS = 20;
const STATE_FILE = 'bench-state.json';

export interface SeedState {
  client: ClientCredentials;
  /** The same application signing with RS256 (its own mappings, the same groups), when seeded. */
  clientRs256?: ClientCredentials;
  users: { id: string; email: string }[];
  seed: SeedOptions;
  rows: Record<string, number>;
  seconds: number;
}

const clockAt = (now: number) => ({ now: () => now });

/** `count` user rows for a bulk insert, all with one password hash (or none), named `<prefix><i>@bench.test`. */
export function benchUserRows(count: number, prefix: string, now: number, passwordHash: string | null = null): Insertable<DB['users']>[] {
  const clock = clockAt(now);
  return Array.from({ length: count }, (_, i) => ({
    id: newId(clock),
    email: `${prefix}${i}@bench.test`,
    name: `${prefix} ${i}`,
    password_hash: passwordHash,
    is_admin: 0 as const,
    disabled: 0 as const,
    must_change_password: 0 as const,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  }));
}

/** Inserts rows in batches that stay under both dialects' bound-parameter limits. */
export async function insertInBatches<T extends keyof DB>(db: Db, table: T, rows: Insertable<DB[T]>[]): Promise<void> {
  if (rows.length === 0) return;
  const perRow = Object.keys(rows[0]!).length;
  const size = Math.max(1, Math.floor(30_000 / perRow));
  for (let i = 0; i < rows.length; i += size) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely cannot narrow a generic table name to its row type
    await db.insertInto(table).values(rows.slice(i, i + size) as any).execute();
  }
}

/** The permanent groups of user i: distinct for k < 19 because 97·19 < 1980, and each group gets the same number of members. */
const permanentGroupIndex = (i: number, k: number, teamGroups: number) => ONCALL_GROUPS + ((13 * i + 97 * k) % teamGroups);

export interface SeedTarget {
  /** The database to fill (a new SQLite file in dataDir by default); the state file stays in dataDir. */
  target?: DatabaseTarget;
  /** scrypt cost of the shared password hash: sign-ins verify at this cost (the token path never hashes). */
  scryptN?: number;
  /** Migrates the new database (default: this checkout's migrations); a before/after run uses the older checkout's. */
  migrate?: (db: Db) => Promise<unknown>;
}

/**
 * Confidential first-party applications (client_secret_basic, code + refresh grants, the
 * redirect URI of bench/code-flow.ts), shaped as the API writes them, and BENCH_RESOURCE
 * registered as a resource server for them (only registered resource servers get tokens).
 */
export async function insertBenchApplications(trx: Db, apps: { client: ClientCredentials; alg: string; name: string }[], now: number): Promise<void> {
  for (const app of apps) {
    await trx
      .insertInto('applications')
      .values({
        id: app.client.id,
        name: app.name,
        description: '',
        client_secret_hash: sha256(app.client.secret),
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: JSON.stringify([app.client.redirectUri]),
        post_logout_redirect_uris: '[]',
        grant_types: JSON.stringify(['authorization_code', 'refresh_token']),
        id_token_signed_response_alg: app.alg,
        access_token_ttl_secs: 3600,
        id_token_ttl_secs: 3600,
        refresh_token_ttl_secs: 30 * 86400,
        first_party: 1,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
  }
  const resourceServerId = newId(clockAt(now));
  await trx.insertInto('resource_servers').values({ id: resourceServerId, audience: BENCH_RESOURCE, name: 'Benchmark API', description: '', scopes: '[]', created_at: now, updated_at: now }).execute();
  await trx.insertInto('resource_server_apps').values(apps.map((app) => ({ resource_server_id: resourceServerId, app_id: app.client.id }))).execute();
}

/** Seeds `file` (a new SQLite database) and writes the client and user list beside it. */
export async function seedTokenDatabase(dataDir: string, opts: SeedOptions = DEFAULT_SEED, where: SeedTarget = {}): Promise<SeedState> {
  const started = performance.now();
  const database = openDatabase(where.target ?? { kind: 'sqlite', file: path.join(dataDir, 'interim.db') });
  try {
    await (where.migrate ?? migrateToLatest)(database.db);
    const now = Date.now();
    const clock = clockAt(now);
    const passwordHash = await createPasswordHasher({ ...DEFAULT_PASSWORD_HASHING, scryptN: where.scryptN ?? DEFAULT_PASSWORD_HASHING.scryptN }).hash(BENCH_PASSWORD);
    const teamGroups = opts.groups - ONCALL_GROUPS;
    const permanentPerUser = opts.membershipsPerUser - 1;
    if (97 * (permanentPerUser - 1) >= teamGroups) throw new Error('too few groups for this many memberships per user');

    const users = benchUserRows(opts.users, 'user', now, passwordHash);
    const groups = Array.from({ length: opts.groups }, (_, g) => ({
      id: newId(clock),
      name: g < ONCALL_GROUPS ? `oncall-${g}` : `team-${g}`,
      description: '',
      is_system: 0 as const,
      expires_at: null,
      created_at: now,
      updated_at: now,
    }));
    const temporaryUntil = now + 30 * 86_400_000;
    const memberships: Insertable<DB['memberships']>[] = [];
    users.forEach((user, i) => {
      for (let k = 0; k < permanentPerUser; k++) {
        memberships.push({ group_id: groups[permanentGroupIndex(i, k, teamGroups)]!.id, user_id: user.id, expires_at: null, created_at: now });
      }
      memberships.push({ group_id: groups[i % ONCALL_GROUPS]!.id, user_id: user.id, expires_at: temporaryUntil, created_at: now });
    });

    const client: ClientCredentials = { id: newId(clock), secret: randomSecret('cs_'), redirectUri: 'http://127.0.0.1:9/callback' };
    const teamGroupsWhere = (residues: number[]) => groups.filter((_, g) => g >= ONCALL_GROUPS && residues.includes(g % 10));
    const oncall = groups.slice(0, ONCALL_GROUPS);
    const mappingSpecs: { claim: string; value: unknown; groups: typeof groups }[] = [
      { claim: 'department', value: 'engineering', groups: teamGroupsWhere([0]) },
      { claim: 'department', value: 'research', groups: teamGroupsWhere([1]) },
      { claim: 'roles', value: ['viewer'], groups: teamGroupsWhere([2, 3]) },
      { claim: 'roles', value: ['editor'], groups: teamGroupsWhere([4]) },
      { claim: 'entitlements', value: ['billing:read', 'reports:read'], groups: teamGroupsWhere([5]) },
      { claim: 'roles', value: ['admin'], groups: oncall },
      { claim: 'break_glass', value: true, groups: oncall },
    ];
    const clientRs256: ClientCredentials = { id: newId(clock), secret: randomSecret('cs_'), redirectUri: client.redirectUri };
    const apps = [
      { client, alg: 'EdDSA', name: 'Benchmark App' },
      { client: clientRs256, alg: 'RS256', name: 'Benchmark App RS256' },
    ];
    const mappingsOf = apps.map((app) =>
      mappingSpecs.map((m) => ({ id: newId(clock), app_id: app.client.id, claim: m.claim, value_json: JSON.stringify(m.value), description: '', created_at: now, updated_at: now })),
    );
    const mappings = mappingsOf.flat();
    const mappingGroups = mappingsOf.flatMap((appMappings) => mappingSpecs.flatMap((m, j) => m.groups.map((g) => ({ mapping_id: appMappings[j]!.id, group_id: g.id }))));

    await database.db.transaction().execute(async (trx) => {
      await insertInBatches(trx, 'users', users);
      await insertInBatches(trx, 'groups', groups);
      await insertInBatches(trx, 'memberships', memberships);
      await insertBenchApplications(trx, apps, now);
      await insertInBatches(trx, 'mappings', mappings);
      await insertInBatches(trx, 'mapping_groups', mappingGroups);
    });
    // A production database has planner statistics (autovacuum gathers them after bulk changes);
    // without them PostgreSQL plans the claims query from the application's 1,228 mapping links
    // instead of the user's 20 memberships (~10 ms instead of ~0.4 ms).
    if (database.dialect === 'postgres') await sql`analyze`.execute(database.db);
    const state: SeedState = {
      client,
      clientRs256,
      users: users.map((u) => ({ id: u.id, email: u.email })),
      seed: opts,
      rows: { users: users.length, groups: groups.length, memberships: memberships.length, mappings: mappings.length, mapping_groups: mappingGroups.length },
      seconds: (performance.now() - started) / 1000,
    };
    writeFileSync(path.join(dataDir, STATE_FILE), JSON.stringify(state));
    return state;
  } finally {
    await database.close();
  }
}

export function readSeedState(dataDir: string): SeedState | undefined {
  const file = path.join(dataDir, STATE_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SeedState) : undefined;
}
