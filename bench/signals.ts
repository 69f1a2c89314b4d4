import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { decodeJwt } from 'jose';
import type { App } from '../src/app.ts';
import type { DialectName } from '../src/db/database.ts';
import type { Actor } from '../src/http/actor.ts';
import { createPasswordHasher, DEFAULT_PASSWORD_HASHING } from '../src/security/passwords.ts';
import { startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { addSubjectsByInject, pushStreamByInject } from '../test/helpers/ssf.ts';
import { inParallel, signInWithCodeFlow, type ClientCredentials } from './code-flow.ts';
import { benchEnv, seedDatabase, startInstance, type SeededDatabase } from './fleet.ts';
import { BENCH_PASSWORD, benchUserRows, insertInBatches } from './seed.ts';

/**
 * Issue 13, section 3: how long after access ends an application hears of it. N grants end
 * at one instant (the worker's expiry, default settings); then M grants are revoked through
 * the API. A loopback receiver takes the Security Event Tokens of an SSF push stream and the
 * back-channel logout tokens; a few users keep calling userinfo with an access token issued
 * while their grant was live. Measured, from the expiry instant or the revoke call's answer:
 * (a) the first refused token request (userinfo: 401 once the token's claims stop holding), (b) the
 * SET received, (c) the logout token received (revocation only: an expiry ends no session
 * and no provider grant, docs/signals.md). The server runs in its own process
 * (bench/instance.ts `serve`, the worker on), on the real clock: the grants are seeded on a
 * clock set an hour back less a lead, so they end that lead after seeding began, once the
 * server is up and its users are signed in.
 */
export interface SignalsBenchOptions {
  grants: number;
  revokes: number;
  /** Users among the expiring ones who keep calling userinfo with an access token of the grant, for (a). */
  tokenUsers: number;
  dialects: DialectName[];
  runs: number;
}

export const DEFAULT_SIGNALS_BENCH: SignalsBenchOptions = { grants: 1000, revokes: 100, tokenUsers: 20, dialects: ['sqlite'], runs: 1 };

const SCRYPT_N = 1024; // sign-ins only
/** From seeding to the grants' end: room to seed, start the server and sign users in. */
const leadMs = (opts: SignalsBenchOptions, dialect: DialectName) => 8_000 + (opts.grants + opts.revokes) * (dialect === 'sqlite' ? 15 : 40) + (opts.tokenUsers + opts.revokes) * 150;
const WAIT_MS = 120_000;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Arrival {
  kind: 'set' | 'logout';
  sub: string;
  at: number;
}

/** The loopback receiver: records when each SET (by subject) and logout token (by sub) arrives. */
export async function startReceiver(): Promise<{ url: string; arrivals: Arrival[]; server: Server }> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString();
      try {
        if (req.url === '/logout') {
          const token = new URLSearchParams(body).get('logout_token') ?? '';
          arrivals.push({ kind: 'logout', sub: String(decodeJwt(token).sub), at });
          res.writeHead(200).end();
        } else {
          const set = decodeJwt(body) as { sub_id?: { sub?: string; email?: string }; sub?: string };
          arrivals.push({ kind: 'set', sub: String(set.sub_id?.sub ?? set.sub_id?.email ?? set.sub), at });
          res.writeHead(202).end();
        }
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, server };
}

interface Seed {
  client: ClientCredentials;
  expiring: { id: string; email: string }[];
  revoking: { id: string; email: string; requestId: string }[];
  expiresAt: number;
}

/** Through the admin API and submit() in process, on a frozen clock: the application, its stream, the grants. */
export async function seed(app: App, adminToken: string, receiver: string, opts: SignalsBenchOptions, now: number): Promise<Seed> {
  const call = async (method: 'POST' | 'GET', url: string, payload?: object, token = adminToken) => {
    const res = await app.http.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`);
    return res.json() as Record<string, unknown>;
  };
  const redirectUri = 'http://127.0.0.1:9/callback';
  const created = await call('POST', '/api/v1/applications', {
    name: 'Signals Bench App',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    first_party: true,
    backchannel_logout_uri: `${receiver}/logout`,
  });
  const client: ClientCredentials = { id: String(created.id), secret: String(created.client_secret), redirectUri };
  const stream = await pushStreamByInject(app, adminToken, client, `${receiver}/ssf`);
  const requesters = String((await call('POST', '/api/v1/groups', { name: 'signals-bench-requesters' })).id);
  const holders = String((await call('POST', '/api/v1/groups', { name: 'signals-bench-baseline' })).id);
  const mapping = String((await call('POST', '/api/v1/mappings', { app_id: client.id, claim: 'roles', value: ['admin'], group_ids: [holders] })).id);
  const template = String(
    (
      await call('POST', '/api/v1/access-request-templates', {
        name: 'Signals Bench',
        app_id: client.id,
        mapping_ids: [mapping],
        allowed_durations: [60, 120],
        approval: 'open',
        requester_group_ids: [requesters],
        auto_approve: true,
        require_justification: false,
      })
    ).id,
  );
  const hash = await createPasswordHasher({ ...DEFAULT_PASSWORD_HASHING, scryptN: SCRYPT_N }).hash(BENCH_PASSWORD);
  const expiring = benchUserRows(opts.grants, 'expiring', now, hash);
  const revoking = benchUserRows(opts.revokes, 'revoking', now, hash);
  await app.core.db.transaction().execute(async (trx) => {
    await insertInBatches(trx, 'users', [...expiring, ...revoking]);
    await insertInBatches(trx, 'memberships', [...expiring, ...revoking].map((u) => ({ group_id: requesters, user_id: u.id, expires_at: null, created_at: now })));
  });
  const submit = async (userId: string, minutes: number) => {
    const actor: Actor = { userId, isAdmin: false, via: 'session', mustChangePassword: false };
    const request = await app.services.requests.submit(actor, { template_id: template, duration_mins: minutes, justification: '', fields: {} });
    if (request.status !== 'approved') throw new Error(`request ${request.id} is ${request.status}, not approved`);
    return request.id;
  };
  const width = app.core.dialect === 'sqlite' ? 1 : 8;
  await inParallel(expiring, width, (u) => submit(u.id, 60));
  const requestIds = await inParallel(revoking, width, (u) => submit(u.id, 120));
  // A stream follows the users the receiver adds, once they have access to its application.
  await addSubjectsByInject(app, stream.token, stream.streamId, [...expiring, ...revoking].map((u) => u.id));
  return {
    client,
    expiring: expiring.map((u) => ({ id: u.id, email: u.email })),
    revoking: revoking.map((u, i) => ({ id: u.id, email: u.email, requestId: requestIds[i]! })),
    expiresAt: now + 60 * 60_000,
  };
}

export interface Latencies {
  count: number;
  missing: number;
  minMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function latencies(ms: number[], expected: number): Latencies {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : Number.NaN);
  return { count: sorted.length, missing: expected - sorted.length, minMs: sorted[0] ?? Number.NaN, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? Number.NaN };
}

export interface SignalsRun {
  dialect: DialectName;
  run: number;
  expiry: { refused: Latencies; set: Latencies };
  revoke: { refused: Latencies; set: Latencies; logout: Latencies };
}

/** Waits until `done()` or WAIT_MS. */
async function until(done: () => boolean): Promise<void> {
  const start = Date.now();
  while (!done() && Date.now() - start < WAIT_MS) await new Promise((r) => setTimeout(r, 20));
}

/** userinfo with an access token issued while the grant was live: 200 until its claims stop holding. */
async function userinfoStatus(issuer: string, accessToken: string): Promise<number> {
  const res = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

async function runOnce(seeded: SeededDatabase, s: Seed, receiver: Awaited<ReturnType<typeof startReceiver>>, opts: SignalsBenchOptions, run: number): Promise<SignalsRun> {
  const copy = await seeded.copy(`signals${run}`);
  receiver.arrivals.length = 0;
  try {
    const instance = await startInstance('serve', { ...copy.env, INTERIM_RUN_WORKER: 'true' });
    try {
      const issuer = `${instance.ready.address}/oidc`;
      const signIn = (u: { email: string }) => signInWithCodeFlow(issuer, s.client, { email: u.email, password: BENCH_PASSWORD }).then((t) => t.access_token);
      const tokenUsers = s.expiring.slice(0, opts.tokenUsers);
      const accessTokens = await inParallel(tokenUsers, 4, signIn);
      const revokeTokens = await inParallel(s.revoking, 4, signIn);
      const endsAt = s.expiresAt;
      if (Date.now() > endsAt - 2500) throw new Error(`seeding, starting and signing in took past the grants' end (${Date.now() - endsAt} ms late): raise the lead in bench/signals.ts`);
      log(`${seeded.dialect} run ${run}: ${tokenUsers.length + s.revoking.length} users signed in; the grants end in ${((endsAt - Date.now()) / 1000).toFixed(1)} s`);
      // From 2 s before: tokens stop counting a grant CLAIMS_MARGIN_MS (1 s) before it ends.
      await new Promise((resolve) => setTimeout(resolve, endsAt - 2000 - Date.now()));
      const refusedAfterExpiry = await Promise.all(
        accessTokens.map(async (token) => {
          for (;;) {
            if ((await userinfoStatus(issuer, token)) !== 200) return Date.now() - endsAt;
            if (Date.now() - endsAt > WAIT_MS) return Number.NaN;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
      const expiringIds = new Set(s.expiring.map((u) => u.id));
      // Only what arrives after the instant counts (nothing the seeding queued, should there be any).
      const setsFor = (ids: Set<string>) => receiver.arrivals.filter((a) => a.kind === 'set' && ids.has(a.sub) && a.at >= endsAt);
      await until(() => new Set(setsFor(expiringIds).map((a) => a.sub)).size >= expiringIds.size);
      const firstSet = new Map<string, number>();
      for (const a of setsFor(expiringIds)) if (!firstSet.has(a.sub)) firstSet.set(a.sub, a.at - endsAt);

      // Revocation: one call per grant, 8 at a time, each timed from its answer.
      const answered = new Map<string, number>();
      const refusedAfterRevoke: number[] = [];
      const adminToken = copy.env.INTERIM_BOOTSTRAP_TOKEN!;
      await inParallel(s.revoking, 8, async (u, i) => {
        const res = await fetch(`${instance.ready.address}/api/v1/access-requests/${u.requestId}/revoke`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'signals bench' }),
        });
        const at = Date.now();
        if (!res.ok) throw new Error(`revoke ${u.requestId} → ${res.status}: ${await res.text()}`);
        answered.set(u.id, at);
        if ((await userinfoStatus(issuer, revokeTokens[i]!)) !== 200) refusedAfterRevoke.push(Date.now() - at);
      });
      const revokingIds = new Set(s.revoking.map((u) => u.id));
      const logoutsFor = () => receiver.arrivals.filter((a) => a.kind === 'logout' && revokingIds.has(a.sub));
      await until(() => new Set(setsFor(revokingIds).map((a) => a.sub)).size >= revokingIds.size && new Set(logoutsFor().map((a) => a.sub)).size >= revokingIds.size);
      const firstOf = (arrivals: Arrival[]) => {
        const first = new Map<string, number>();
        for (const a of arrivals) if (!first.has(a.sub)) first.set(a.sub, a.at - answered.get(a.sub)!);
        return [...first.values()];
      };
      return {
        dialect: seeded.dialect,
        run,
        expiry: { refused: latencies(refusedAfterExpiry.filter(Number.isFinite), tokenUsers.length), set: latencies([...firstSet.values()], expiringIds.size) },
        revoke: {
          refused: latencies(refusedAfterRevoke, revokingIds.size),
          set: latencies(firstOf(setsFor(revokingIds)), revokingIds.size),
          logout: latencies(firstOf(logoutsFor()), revokingIds.size),
        },
      };
    } finally {
      await instance.stop();
    }
  } finally {
    await copy.drop();
  }
}

const line = (what: string, l: Latencies) => `  ${what.padEnd(34)} min ${l.minMs.toFixed(0)} ms, p50 ${l.p50Ms.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms, max ${l.maxMs.toFixed(0)} ms (${l.count}${l.missing ? `, ${l.missing} MISSING` : ''})`;

export async function runSignalsBench(opts: SignalsBenchOptions): Promise<{ cores: number; options: SignalsBenchOptions; runs: SignalsRun[] }> {
  const receiver = await startReceiver();
  let cluster: PostgresCluster | undefined;
  const runs: SignalsRun[] = [];
  try {
    for (const dialect of opts.dialects) {
      // Each run seeds its own database: its grants end once, at a real instant.
      for (let run = 1; run <= opts.runs; run++) {
        const env = benchEnv({ INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' });
        // Seeded an hour back less the lead: the 60-minute grants end `lead` from now, in real time.
        const now = Date.now() - 60 * 60_000 + leadMs(opts, dialect);
        let s: Seed | undefined;
        const started = performance.now();
        const seeded = await seedDatabase(
          dialect,
          env,
          async () => (cluster ??= await startPostgresCluster()),
          async (app) => {
            s = await seed(app, env.INTERIM_BOOTSTRAP_TOKEN!, receiver.url, opts, now);
          },
          { now: () => now },
        );
        log(`${dialect} run ${run}: seeded ${opts.grants} + ${opts.revokes} grants in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        try {
          const r = await runOnce(seeded, s!, receiver, opts, run);
          runs.push(r);
          log(`${dialect} run ${run}, ${opts.grants} grants ending at once, from the instant:`);
          log(line('(a) first refused userinfo call', r.expiry.refused));
          log(line('(b) SET received', r.expiry.set));
          log(`${dialect} run ${run}, ${opts.revokes} revocations, from each answer:`);
          log(line('(a) userinfo refused', r.revoke.refused));
          log(line('(b) SET received', r.revoke.set));
          log(line('(c) logout token received', r.revoke.logout));
        } finally {
          await seeded.drop();
        }
      }
    }
  } finally {
    receiver.server.close();
    cluster?.stop();
  }
  return { cores: availableParallelism(), options: opts, runs };
}
