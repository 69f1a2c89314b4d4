import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { DialectName } from '../src/db/database.ts';
import type { Actor } from '../src/http/actor.ts';
import { startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { inParallel } from './code-flow.ts';
import { benchUserRows, insertInBatches } from './seed.ts';

/**
 * Issue 3, section 5: N approved grants that all end at the same instant are cleared by
 * expireDueGrants() within 5 s on SQLite. The grants are made by the real path: N users
 * each submit a request from an auto-approving template, so approval (grant group,
 * membership, mapping links, status, audit event, and whatever else approval writes by
 * the time this runs) is exactly what production writes. The clock is frozen while they
 * are made, so every grant has the same expires_at; then it moves past that instant and
 * the expiry is timed end to end, chunks and audit events included.
 */
export interface ExpiryBenchOptions {
  grants: number;
  dialects: DialectName[];
}

export const DEFAULT_EXPIRY_BENCH: ExpiryBenchOptions = { grants: 10_000, dialects: ['sqlite'] };

const DURATION_MINS = 60;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Fixture {
  app: App;
  drop(): Promise<void>;
}

/** The bootstrap admin API token of each app, for the admin API calls that set up the template. */
const adminTokens = new WeakMap<App, string>();
const adminTokenOf = (app: App) => adminTokens.get(app)!;

async function openApp(dialect: DialectName, clock: { now(): number }, cluster: () => Promise<PostgresCluster>): Promise<Fixture> {
  const adminToken = randomBytes(32).toString('base64url');
  const common = {
    INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
    INTERIM_ADMIN_EMAIL: 'bench-admin@bench.test',
    INTERIM_ADMIN_PASSWORD: 'benchmark admin password',
    INTERIM_BOOTSTRAP_TOKEN: adminToken,
    INTERIM_RUN_WORKER: 'false',
    INTERIM_LOG_LEVEL: 'silent',
  };
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'interim-expiry-'));
    const drop = async () => rmSync(dir, { recursive: true, force: true });
    const app = await buildApp(loadConfig({ ...common, INTERIM_DATA_DIR: dir }), { clock, logger: false }).catch(async (error: unknown) => {
      await drop();
      throw error;
    });
    await app.bootstrap();
    adminTokens.set(app, adminToken);
    return { app, drop };
  }
  const adminUrl = (await cluster()).url;
  const name = `expiry_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const app = await buildApp(loadConfig({ ...common, DATABASE_URL: adminUrl.replace(/\/postgres$/, `/${name}`) }), { clock, logger: false });
  await app.bootstrap();
  adminTokens.set(app, adminToken);
  return { app, drop: async () => undefined };
}

/** An application, a mapping, a requester group and an auto-approving template, through the admin API. */
async function createTemplate(app: App): Promise<{ templateId: string; requesterGroupId: string }> {
  const call = async (url: string, payload: object) => {
    const res = await app.http.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${adminTokenOf(app)}` } });
    if (res.statusCode !== 201) throw new Error(`POST ${url} → ${res.statusCode}: ${res.body}`);
    return (res.json() as { id: string }).id;
  };
  const appId = await call('/api/v1/applications', { name: 'Expiry Bench App', redirect_uris: ['https://app.bench.test/callback'] });
  const baseline = await call('/api/v1/groups', { name: 'expiry-bench-baseline' });
  const requesterGroupId = await call('/api/v1/groups', { name: 'expiry-bench-requesters' });
  const mappings = [
    await call('/api/v1/mappings', { app_id: appId, claim: 'roles', value: ['admin'], group_ids: [baseline] }),
    await call('/api/v1/mappings', { app_id: appId, claim: 'break_glass', value: true, group_ids: [baseline] }),
  ];
  const templateId = await call('/api/v1/access-request-templates', {
    name: 'Expiry Bench',
    app_id: appId,
    mapping_ids: mappings,
    allowed_durations: [DURATION_MINS],
    approval: 'open',
    requester_group_ids: [requesterGroupId],
    auto_approve: true,
    require_justification: false,
  });
  return { templateId, requesterGroupId };
}

async function benchDialect(dialect: DialectName, grants: number, cluster: () => Promise<PostgresCluster>) {
  let now = Date.now();
  const clock = { now: () => now };
  const fixture = await openApp(dialect, clock, cluster);
  const { app } = fixture;
  try {
    const db = app.core.db;
    const { templateId, requesterGroupId } = await createTemplate(app);

    // Requesters: bulk rows (hashing 10,000 passwords measures nothing here), all in the requester group.
    const users = benchUserRows(grants, 'requester', now);
    await db.transaction().execute(async (trx) => {
      await insertInBatches(trx, 'users', users);
      await insertInBatches(trx, 'memberships', users.map((u) => ({ group_id: requesterGroupId, user_id: u.id, expires_at: null, created_at: now })));
    });

    let started = performance.now();
    await inParallel(users, dialect === 'sqlite' ? 1 : 8, async (user) => {
      const actor: Actor = { userId: user.id, isAdmin: false, via: 'session', mustChangePassword: false };
      const request = await app.services.requests.submit(actor, { template_id: templateId, duration_mins: DURATION_MINS, justification: '', fields: {} });
      if (request.status !== 'approved') throw new Error(`request ${request.id} is ${request.status}, not approved`);
    });
    const seedSecs = (performance.now() - started) / 1000;
    const approved = await db.selectFrom('access_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'approved').executeTakeFirstOrThrow();
    const expiresAt = await db.selectFrom('access_requests').select('expires_at').distinct().execute();
    if (Number(approved.n) !== grants || expiresAt.length !== 1) throw new Error(`expected ${grants} grants at one instant, got ${approved.n} at ${expiresAt.length}`);
    log(`${dialect}: ${grants} grants approved through submit() + auto-approval in ${seedSecs.toFixed(1)} s, all ending at ${new Date(expiresAt[0]!.expires_at!).toISOString()}`);

    now = expiresAt[0]!.expires_at! + 1000;
    // How long the event loop went without a turn: with the worker inside the server, that
    // is how long HTTP requests (the token endpoint) wait behind expiry.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    started = performance.now();
    const expired = await app.services.requests.expireDueGrants();
    const secs = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the late timer record the last stall
    loop.disable();

    const left = await db.selectFrom('groups').select((eb) => eb.fn.countAll<number>().as('n')).where('is_system', '=', 1).executeTakeFirstOrThrow();
    const ended = await db.selectFrom('access_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'expired').executeTakeFirstOrThrow();
    const ok = expired === grants && Number(ended.n) === grants && Number(left.n) === 0;
    const result = { dialect, grants, expired, seconds: secs, perSecond: expired / secs, maxEventLoopBlockMs: loop.max / 1e6, verified: ok };
    log(`${dialect}: expireDueGrants() ended ${expired} grants in ${secs.toFixed(2)} s (${Math.round(expired / secs)}/s), longest event-loop block ${(loop.max / 1e6).toFixed(1)} ms; ${ok ? 'all grant groups gone, all requests expired' : `CHECK FAILED: ${ended.n} expired, ${left.n} grant groups left`}`);
    return result;
  } finally {
    await app.close();
    await fixture.drop();
  }
}

export async function runExpiryBench(opts: ExpiryBenchOptions = DEFAULT_EXPIRY_BENCH): Promise<void> {
  let cluster: PostgresCluster | undefined;
  const startCluster = async () => (cluster ??= await startPostgresCluster());
  try {
    const results = [];
    for (const dialect of opts.dialects) results.push(await benchDialect(dialect, opts.grants, startCluster));
    log(`${availableParallelism()} cores, Node ${process.version}`);
    process.stdout.write(`${JSON.stringify(results)}\n`);
    if (results.some((r) => !r.verified)) process.exitCode = 1;
  } finally {
    cluster?.stop();
  }
}
