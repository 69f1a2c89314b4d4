import { mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Actor } from '../src/http/actor.ts';
import { startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { inParallel } from './code-flow.ts';
import { benchEnv, median, modeName, seedDatabase, startInstance, type Mode, type SeededDatabase } from './fleet.ts';
import { runWithTokenLoad, seedTokenLoad, type TokenLoadOptions, type TokenLoadRun, type TokenLoadSeed } from './expiry-token-load.ts';
import { formatProfile, summarizeCpuProfile } from './profile.ts';
import { benchUserRows, insertInBatches } from './seed.ts';

/**
 * Issue 3, section 5 and issue 11, target 4: N approved grants that all end at the same
 * instant are cleared by expireDueGrants(). The grants are made by the real path: N users
 * each submit a request from an auto-approving template, so approval (grant group,
 * membership, mapping links, status, audit event, and whatever else approval writes by
 * the time this runs) is exactly what production writes. The clock is frozen while they
 * are made, so every grant has the same expires_at. That database is seeded once and
 * copied for every run; each run starts 1 or 2 instances (separate processes, bench/instance.ts)
 * on the copy with their clocks past that instant, tells them to go at once, and times
 * until the last one is done, then checks that every request is expired exactly once.
 */
export interface ExpiryBenchOptions {
  grants: number;
  modes: Mode[];
  runs: number;
  /** Another checkout to alternate with (its bench/instance.ts and src/), for before/after. */
  against?: string;
  /** Write a CPU profile of each instance of the first run and print its top functions. */
  profile?: boolean;
  /** Refresh-grant load on the instances while the burst expires, against the same load without one (bench/expiry-token-load.ts). */
  tokenLoad?: TokenLoadOptions;
}

export const DEFAULT_EXPIRY_BENCH: ExpiryBenchOptions = { grants: 10_000, modes: [{ dialect: 'sqlite', instances: 1 }], runs: 1 };

const DURATION_MINS = 60;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** An application, a mapping, a requester group and an auto-approving template, through the admin API. */
export async function createTemplate(app: App, adminToken: string): Promise<{ templateId: string; requesterGroupId: string }> {
  const call = async (url: string, payload: object) => {
    const res = await app.http.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${adminToken}` } });
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

/** Seeds `grants` approved grants ending at one instant; returns that instant. */
async function seedGrants(dialect: Mode['dialect'], env: Record<string, string>, grants: number, cluster: () => Promise<PostgresCluster>, tokenLoad = false): Promise<{ seeded: SeededDatabase; expiresAt: number; tokens?: TokenLoadSeed }> {
  let now = Date.now();
  let expiresAt = 0;
  let tokens: TokenLoadSeed | undefined;
  const seeded = await seedDatabase(
    dialect,
    env,
    cluster,
    async (app) => {
      const db = app.core.db;
      const { templateId, requesterGroupId } = await createTemplate(app, env.INTERIM_BOOTSTRAP_TOKEN!);
      // Requesters: bulk rows (hashing 10,000 passwords measures nothing here), all in the requester group.
      const users = benchUserRows(grants, 'requester', now);
      await db.transaction().execute(async (trx) => {
        await insertInBatches(trx, 'users', users);
        await insertInBatches(trx, 'memberships', users.map((u) => ({ group_id: requesterGroupId, user_id: u.id, expires_at: null, created_at: now })));
      });
      const started = performance.now();
      await inParallel(users, dialect === 'sqlite' ? 1 : 8, async (user) => {
        const actor: Actor = { userId: user.id, isAdmin: false, via: 'session', mustChangePassword: false };
        const request = await app.services.requests.submit(actor, { template_id: templateId, duration_mins: DURATION_MINS, justification: '', fields: {} });
        if (request.status !== 'approved') throw new Error(`request ${request.id} is ${request.status}, not approved`);
      });
      const seedSecs = (performance.now() - started) / 1000;
      const approved = await db.selectFrom('access_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'approved').executeTakeFirstOrThrow();
      const at = await db.selectFrom('access_requests').select('expires_at').distinct().execute();
      if (Number(approved.n) !== grants || at.length !== 1) throw new Error(`expected ${grants} grants at one instant, got ${approved.n} at ${at.length}`);
      expiresAt = at[0]!.expires_at!;
      if (tokenLoad) tokens = await seedTokenLoad(db, now);
      log(`${dialect}: ${grants} grants approved through submit() + auto-approval (in process) in ${seedSecs.toFixed(1)} s, all ending at ${new Date(expiresAt).toISOString()}`);
    },
    { now: () => now },
  );
  now = expiresAt;
  return { seeded, expiresAt, tokens };
}

interface RunResult {
  dialect: Mode['dialect'];
  instances: number;
  mode: string;
  build: string;
  grants: number;
  expired: number;
  seconds: number;
  perSecond: number;
  expiredBy: number[];
  maxStallMs: number;
  p99DelayMs: number;
  verified: boolean;
  /** --token-load: refresh grants during the burst and without one. */
  tokenLoad?: Pick<TokenLoadRun, 'burst' | 'quiet' | 'order'>;
}

/** One run with token load beside the expiry, then the same checks. */
async function runOnceWithTokenLoad(seeded: SeededDatabase, tokens: TokenLoadSeed, opts: TokenLoadOptions, mode: Mode, grants: number, expiresAt: number, build: { name: string; root?: string }, run: number): Promise<RunResult> {
  const copy = await seeded.copy(`t${run}_${mode.instances}_${build.name}`);
  try {
    const r = await runWithTokenLoad(copy, mode, expiresAt, tokens, opts, run, build);
    const verified = r.expired === grants && (await verify(copy.env, mode, grants)) && r.burst.failed === 0 && r.quiet.failed === 0;
    return {
      dialect: mode.dialect,
      instances: mode.instances,
      mode: modeName(mode),
      build: build.name,
      grants,
      expired: r.expired,
      seconds: r.seconds,
      perSecond: r.expired / r.seconds,
      expiredBy: r.expiredBy,
      maxStallMs: r.maxStallMs,
      p99DelayMs: r.p99DelayMs,
      verified,
      tokenLoad: { burst: r.burst, quiet: r.quiet, order: r.order },
    };
  } finally {
    await copy.drop();
  }
}

const windowLine = (w: TokenLoadRun['burst']) =>
  `${Math.round(w.perSecond)}/s, p50 ${w.p50Ms.toFixed(1)} ms, p99 ${w.p99Ms.toFixed(1)} ms, max ${w.maxMs.toFixed(1)} ms (${w.requests} responses${w.failed ? `, ${w.failed} FAILED` : ''})`;

/** One timed run: `instances` processes on a fresh copy, all told to go at once. */
async function runOnce(seeded: SeededDatabase, mode: Mode, grants: number, expiresAt: number, build: { name: string; root?: string }, tag: string, profileDir?: string): Promise<RunResult> {
  const copy = await seeded.copy(tag);
  try {
    const env = { ...copy.env, BENCH_NOW: String(expiresAt + 1000) };
    const instances = await Promise.all(Array.from({ length: mode.instances }, () => startInstance('expire', env, build.root, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])));
    try {
      const started = performance.now();
      for (const i of instances) i.send({ go: true });
      const results = await Promise.all(instances.map((i) => i.next<{ expired: number; ms: number; maxStallMs: number; p99DelayMs: number }>()));
      const seconds = (performance.now() - started) / 1000;
      const expired = results.reduce((n, r) => n + r.expired, 0);
      const verified = expired === grants && (await verify(copy.env, mode, grants));
      return {
        dialect: mode.dialect,
        instances: mode.instances,
        mode: modeName(mode),
        build: build.name,
        grants,
        expired,
        seconds,
        perSecond: expired / seconds,
        expiredBy: results.map((r) => r.expired),
        maxStallMs: Math.max(...results.map((r) => r.maxStallMs)),
        p99DelayMs: Math.max(...results.map((r) => r.p99DelayMs)),
        verified,
      };
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
    }
  } finally {
    await copy.drop();
  }
}

/** Every request expired, exactly one expired event each, no grant group left. */
async function verify(env: Record<string, string>, mode: Mode, grants: number): Promise<boolean> {
  const app = await buildApp(loadConfig(env), { logger: false });
  try {
    const db = app.core.db;
    const count = async (q: Promise<{ n: unknown }>) => Number((await q).n);
    const ended = await count(db.selectFrom('access_requests').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'expired').executeTakeFirstOrThrow());
    const left = await count(db.selectFrom('groups').select((eb) => eb.fn.countAll().as('n')).where('is_system', '=', 1).executeTakeFirstOrThrow());
    const events = await count(db.selectFrom('audit_events').select((eb) => eb.fn.count('request_id').distinct().as('n')).where('action', '=', 'access_request.expired').executeTakeFirstOrThrow());
    const all = await count(db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('action', '=', 'access_request.expired').executeTakeFirstOrThrow());
    const outbox = await count(db.selectFrom('outbox_events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'access_request.expired').executeTakeFirstOrThrow());
    const ok = ended === grants && left === 0 && events === grants && all === grants && outbox === grants;
    if (!ok) log(`${modeName(mode)}: CHECK FAILED: ${ended} expired, ${left} grant groups left, ${all} expired audit events for ${events} requests, ${outbox} outbox events`);
    return ok;
  } finally {
    await app.close();
  }
}

export async function runExpiryBench(opts: ExpiryBenchOptions = DEFAULT_EXPIRY_BENCH): Promise<void> {
  let cluster: PostgresCluster | undefined;
  const startCluster = async () => (cluster ??= await startPostgresCluster());
  const builds = [{ name: 'this' }, ...(opts.against ? [{ name: 'against', root: opts.against }] : [])];
  const seededBy = new Map<string, { seeded: SeededDatabase; expiresAt: number; tokens?: TokenLoadSeed }>();
  try {
    const results: RunResult[] = [];
    for (const dialect of new Set(opts.modes.map((m) => m.dialect))) seededBy.set(dialect, await seedGrants(dialect, benchEnv(), opts.grants, startCluster, !!opts.tokenLoad));
    for (let run = 1; run <= opts.runs; run++) {
      for (const mode of opts.modes) {
        // A/B alternate within each run; the order flips every run so neither always goes first.
        const order = run % 2 ? builds : [...builds].reverse();
        for (const build of order) {
          const { seeded, expiresAt, tokens } = seededBy.get(mode.dialect)!;
          if (opts.tokenLoad) {
            const r = await runOnceWithTokenLoad(seeded, tokens!, opts.tokenLoad, mode, opts.grants, expiresAt, build, run);
            results.push(r);
            log(
              `run ${run} ${r.mode} [${r.build}] with token load (${r.tokenLoad!.order}): ${r.grants} grants expired in ${r.seconds.toFixed(2)} s (by instance ${r.expiredBy.join(' + ')}), longest event-loop stall ${r.maxStallMs.toFixed(1)} ms, load ${loadavg()[0]!.toFixed(1)}${r.verified ? '' : ' — CHECK FAILED'}\n` +
                `  refresh grants during the burst: ${windowLine(r.tokenLoad!.burst)}\n  without a burst:                ${windowLine(r.tokenLoad!.quiet)}`,
            );
            continue;
          }
          const profileDir = opts.profile && run === 1 ? mkdtempSync(path.join(tmpdir(), 'interim-expiry-prof-')) : undefined;
          const r = await runOnce(seeded, mode, opts.grants, expiresAt, build, `r${run}_${mode.instances}_${build.name}`, profileDir);
          results.push(r);
          log(
            `run ${run} ${r.mode} [${r.build}]: ${r.grants} grants expired in ${r.seconds.toFixed(2)} s (${Math.round(r.perSecond)}/s; by instance ${r.expiredBy.join(' + ')}), longest event-loop stall ${r.maxStallMs.toFixed(1)} ms, p99 loop delay ${r.p99DelayMs.toFixed(1)} ms, load ${loadavg()[0]!.toFixed(1)}${r.verified ? '' : ' — CHECK FAILED'}`,
          );
          for (const file of profileDir ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : []) {
            log(`profile of one ${r.mode} [${r.build}] instance (${path.join(profileDir!, file)}):\n${formatProfile(summarizeCpuProfile(path.join(profileDir!, file)))}`);
          }
        }
      }
    }
    const summary = [];
    for (const mode of opts.modes) {
      for (const build of builds) {
        const rs = results.filter((r) => r.mode === modeName(mode) && r.build === build.name);
        summary.push({
          mode: modeName(mode),
          build: build.name,
          runs: rs.length,
          medianSeconds: median(rs.map((r) => r.seconds)),
          medianPerSecond: median(rs.map((r) => r.perSecond)),
          medianMaxStallMs: median(rs.map((r) => r.maxStallMs)),
          verified: rs.every((r) => r.verified),
          ...(opts.tokenLoad
            ? {
                burstP99Ms: median(rs.map((r) => r.tokenLoad!.burst.p99Ms)),
                quietP99Ms: median(rs.map((r) => r.tokenLoad!.quiet.p99Ms)),
                burstMaxMs: median(rs.map((r) => r.tokenLoad!.burst.maxMs)),
                quietMaxMs: median(rs.map((r) => r.tokenLoad!.quiet.maxMs)),
                burstPerSecond: median(rs.map((r) => r.tokenLoad!.burst.perSecond)),
                quietPerSecond: median(rs.map((r) => r.tokenLoad!.quiet.perSecond)),
                p99Ratio: median(rs.map((r) => r.tokenLoad!.burst.p99Ms / r.tokenLoad!.quiet.p99Ms)),
              }
            : {}),
        });
      }
    }
    for (const m of summary) {
      log(`median ${m.mode} [${m.build}] of ${m.runs}: ${m.medianSeconds.toFixed(2)} s, ${Math.round(m.medianPerSecond)}/s, longest stall ${m.medianMaxStallMs.toFixed(1)} ms`);
      if (m.burstP99Ms !== undefined) {
        log(
          `  refresh grants p99 ${m.burstP99Ms.toFixed(1)} ms during the burst against ${m.quietP99Ms!.toFixed(1)} ms without (${m.p99Ratio!.toFixed(2)}× run by run), max ${m.burstMaxMs!.toFixed(1)} against ${m.quietMaxMs!.toFixed(1)} ms, ${Math.round(m.burstPerSecond!)}/s against ${Math.round(m.quietPerSecond!)}/s`,
        );
      }
    }
    log(`${availableParallelism()} cores, Node ${process.version}`);
    process.stdout.write(`${JSON.stringify(results)}\n`);
    if (results.some((r) => !r.verified)) process.exitCode = 1;
  } finally {
    for (const { seeded } of seededBy.values()) await seeded.drop().catch(() => undefined);
    cluster?.stop();
  }
}
