import { mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from '../src/app.ts';
import { API_TOKEN_PREFIX } from '../src/modules/api-tokens/api-tokens.types.ts';
import { newId } from '../src/security/ids.ts';
import { randomSecret, sha256 } from '../src/security/tokens.ts';
import { freePort, startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { createTemplate } from './expiry.ts';
import { benchEnv, median, modeName, seedDatabase, startInstance, type Instance, type Mode, type SeededDatabase } from './fleet.ts';
import { cpuSeconds } from './processes.ts';
import { formatProfile, summarizeCpuProfile } from './profile.ts';
import { benchUserRows, insertInBatches } from './seed.ts';

/**
 * Issue 11, target 6: auto-approved submissions per second through the real HTTP API.
 * Many requesters (each with a personal API token, all in the template's requester group)
 * submit to auto-approving templates (a pair once, see TEMPLATES), `connections` at a time, spread over 1 or 2
 * instances (separate processes, bench/instance.ts) on one database; the per-user rate
 * limit is raised so it never answers 429. Each requester has been seen once before the
 * timed part (the warm-up), as in steady use. Every answer must be 201 with the request
 * `approved`. Reported: submissions/s and the instances' CPU per submission (from /proc).
 */
export interface SubmissionsBenchOptions {
  modes: Mode[];
  runs: number;
  durationSecs: number;
  connections: number;
  requesters: number;
  /** Another checkout to alternate with (its bench/instance.ts and src/), for before/after. */
  against?: string;
  /** Write a CPU profile of each instance of the first run and print its top functions. */
  profile: boolean;
}

export const DEFAULT_SUBMISSIONS_BENCH: SubmissionsBenchOptions = {
  modes: [{ dialect: 'sqlite', instances: 1 }],
  runs: 1,
  durationSecs: 8,
  connections: 16,
  requesters: 200,
  profile: false,
};

const DURATION_MINS = 60;
const WARMUP_SECS = 1;
/**
 * Auto-approving templates to spread the submissions over: a person holds at most one active
 * grant of a template (issue 12 §2), so each submission is for a (requester, template) pair not
 * used before in the run. 200 requesters × 100 templates = 20,000 submissions per run.
 */
const TEMPLATES = 100;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Seeded {
  seeded: SeededDatabase;
  templateIds: string[];
  tokens: string[];
}

async function seed(dialect: Mode['dialect'], env: Record<string, string>, requesters: number, cluster: () => Promise<PostgresCluster>): Promise<Seeded> {
  const templateIds: string[] = [];
  const tokens: string[] = [];
  const seeded = await seedDatabase(dialect, env, cluster, async (app: App) => {
    const created = await createTemplate(app, env.INTERIM_BOOTSTRAP_TOKEN!);
    templateIds.push(created.templateId, ...(await copyTemplate(app, env.INTERIM_BOOTSTRAP_TOKEN!, created.templateId, TEMPLATES - 1)));
    const now = Date.now();
    const users = benchUserRows(requesters, 'submitter', now);
    const rows = users.map((u) => {
      const token = randomSecret(API_TOKEN_PREFIX);
      tokens.push(token);
      return { id: newId({ now: () => now }), user_id: u.id as string, name: 'bench', token_hash: sha256(token), expires_at: null, last_used_at: null, created_at: now };
    });
    await app.core.db.transaction().execute(async (trx) => {
      await insertInBatches(trx, 'users', users);
      await insertInBatches(trx, 'memberships', users.map((u) => ({ group_id: created.requesterGroupId, user_id: u.id, expires_at: null, created_at: now })));
      await insertInBatches(trx, 'api_tokens', rows);
    });
  });
  return { seeded, templateIds, tokens };
}

/** `count` more templates like `templateId` (same application, mappings and groups), through the admin API. */
async function copyTemplate(app: App, adminToken: string, templateId: string, count: number): Promise<string[]> {
  const headers = { authorization: `Bearer ${adminToken}` };
  const original = (await app.http.inject({ method: 'GET', url: `/api/v1/access-request-templates/${templateId}`, headers })).json() as Record<string, unknown>;
  // A one-stage template: its flat approver attributes say it all (a body gives those or `stages`, not both).
  const { id: _id, version: _v, warnings: _w, created_at: _c, updated_at: _u, stages: _s, ...settings } = original;
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const res = await app.http.inject({ method: 'POST', url: '/api/v1/access-request-templates', headers, payload: { ...settings, name: `${String(settings.name)} ${i}` } });
    if (res.statusCode !== 201) throw new Error(`POST template copy → ${res.statusCode}: ${res.body}`);
    ids.push((res.json() as { id: string }).id);
  }
  return ids;
}

interface RunResult {
  dialect: Mode['dialect'];
  instances: number;
  mode: string;
  build: string;
  submissions: number;
  perSecond: number;
  cpuMsPerSubmission: number;
  failures: number;
  firstFailure?: string;
}

/** `connections` loops, each submitting for the next requester in turn, until `until`. */
async function load(origins: string[], s: Seeded, connections: number, until: number, counter: { next: number; ok: number; failures: number; firstFailure?: string }) {
  const bodies = s.templateIds.map((id) => JSON.stringify({ template_id: id, duration_mins: DURATION_MINS, justification: '', fields: {} }));
  await Promise.all(
    Array.from({ length: connections }, async (_, lane) => {
      const origin = origins[lane % origins.length]!;
      while (performance.now() < until) {
        // Every requester in turn, then the next template: a (requester, template) pair once per run.
        // Once every pair is used, a new submission could only meet the live grant of an earlier
        // one (409), so the run ends there (its rate is still taken over the time it ran).
        if (counter.next >= s.tokens.length * bodies.length) return;
        const n = counter.next++;
        const token = s.tokens[n % s.tokens.length]!;
        const body = bodies[Math.floor(n / s.tokens.length) % bodies.length]!;
        const res = await fetch(`${origin}/api/v1/access-requests`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        const text = await res.text();
        if (res.status === 201 && (JSON.parse(text) as { status: string }).status === 'approved') counter.ok++;
        else {
          counter.failures++;
          counter.firstFailure ??= `${res.status} ${text.slice(0, 300)}`;
        }
      }
    }),
  );
}

async function runOnce(s: Seeded, mode: Mode, opts: SubmissionsBenchOptions, build: { name: string; root?: string }, tag: string, profileDir?: string): Promise<RunResult> {
  const copy = await s.seeded.copy(tag);
  const instances: Instance[] = [];
  try {
    const origins: string[] = [];
    for (let i = 0; i < mode.instances; i++) {
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      const env = { ...copy.env, INTERIM_HOST: '127.0.0.1', INTERIM_PORT: String(port), INTERIM_BASE_URL: origin, INTERIM_REQUESTS_PER_MINUTE: '1000000' };
      instances.push(await startInstance('serve', env, build.root, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []));
      origins.push(origin);
    }
    // Warm-up: at least a second, and until every requester has been seen once (an API token's
    // last use is written at most once a minute, so the timed part sees the steady state).
    const warm = { next: 0, ok: 0, failures: 0 };
    const warmStart = performance.now();
    while (warm.next < s.tokens.length || performance.now() - warmStart < WARMUP_SECS * 1000) {
      await load(origins, s, opts.connections, performance.now() + 250, warm);
    }
    const counter = { next: warm.next, ok: 0, failures: 0 } as { next: number; ok: number; failures: number; firstFailure?: string };
    const cpuBefore = instances.map((i) => cpuSeconds(i.child.pid!));
    const started = performance.now();
    await load(origins, s, opts.connections, started + opts.durationSecs * 1000, counter);
    const secs = (performance.now() - started) / 1000;
    const cpu = instances.reduce((sum, i, k) => sum + cpuSeconds(i.child.pid!) - cpuBefore[k]!, 0);
    return {
      dialect: mode.dialect,
      instances: mode.instances,
      mode: modeName(mode),
      build: build.name,
      submissions: counter.ok,
      perSecond: counter.ok / secs,
      cpuMsPerSubmission: (cpu * 1000) / Math.max(1, counter.ok),
      failures: counter.failures + warm.failures,
      firstFailure: counter.firstFailure ?? (warm as { firstFailure?: string }).firstFailure,
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await copy.drop();
  }
}

export async function runSubmissionsBench(opts: SubmissionsBenchOptions = DEFAULT_SUBMISSIONS_BENCH): Promise<void> {
  let cluster: PostgresCluster | undefined;
  const startCluster = async () => (cluster ??= await startPostgresCluster());
  const builds = [{ name: 'this' }, ...(opts.against ? [{ name: 'against', root: opts.against }] : [])];
  const seededBy = new Map<string, Seeded>();
  try {
    for (const dialect of new Set(opts.modes.map((m) => m.dialect))) seededBy.set(dialect, await seed(dialect, benchEnv(), opts.requesters, startCluster));
    const results: RunResult[] = [];
    for (let run = 1; run <= opts.runs; run++) {
      for (const mode of opts.modes) {
        const order = run % 2 ? builds : [...builds].reverse();
        for (const build of order) {
          const profileDir = opts.profile && run === 1 ? mkdtempSync(path.join(tmpdir(), 'interim-submit-prof-')) : undefined;
          const r = await runOnce(seededBy.get(mode.dialect)!, mode, opts, build, `s${run}_${mode.instances}_${build.name}`, profileDir);
          results.push(r);
          log(
            `run ${run} ${r.mode} [${r.build}]: ${r.submissions} auto-approved submissions in ${opts.durationSecs} s = ${r.perSecond.toFixed(0)}/s, server CPU ${r.cpuMsPerSubmission.toFixed(2)} ms per submission, load ${loadavg()[0]!.toFixed(1)}${r.failures ? `; ${r.failures} FAILED, first: ${r.firstFailure}` : ''}`,
          );
          if (profileDir) {
            for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
              log(`profile of one ${r.mode} [${r.build}] instance (${path.join(profileDir, file)}):\n${formatProfile(summarizeCpuProfile(path.join(profileDir, file)))}`);
            }
          }
        }
      }
    }
    for (const mode of opts.modes) {
      for (const build of builds) {
        const rs = results.filter((r) => r.mode === modeName(mode) && r.build === build.name);
        log(
          `median ${modeName(mode)} [${build.name}] of ${rs.length}: ${median(rs.map((r) => r.perSecond)).toFixed(0)}/s, ${median(rs.map((r) => r.cpuMsPerSubmission)).toFixed(2)} ms CPU per submission`,
        );
      }
    }
    log(`${availableParallelism()} cores, Node ${process.version}, ${opts.connections} connections, ${opts.requesters} requesters`);
    process.stdout.write(`${JSON.stringify(results)}\n`);
    if (results.some((r) => r.failures > 0)) process.exitCode = 1;
  } finally {
    for (const { seeded } of seededBy.values()) await seeded.drop().catch(() => undefined);
    cluster?.stop();
  }
}
