import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Actor } from '../src/http/actor.ts';
import { startWorker } from '../src/worker/worker.ts';
import { benchUserRows, insertInBatches } from './seed.ts';

/**
 * Issue 8, section 3: a grant is `expired` (status and event) within 2 s of its
 * `expires_at` (p99) whatever the delivery backlog. Wall clock, on SQLite: the worker runs
 * as in the server (every task on its own timer, default schedules), a webhook receiver
 * answers each delivery only after `receiverDelayMs`, and `requests` auto-approved
 * requests give it a backlog of twice as many deliveries (submitted + approved). Then
 * `grants` of those grants are set to end one after another, `spacingMs` apart, and the
 * lag from each `expires_at` to its `access_request.expired` event is measured.
 */
export interface ExpiryBacklogOptions {
  requests: number;
  grants: number;
  receiverDelayMs: number;
  spacingMs: number;
}

export const DEFAULT_EXPIRY_BACKLOG_BENCH: ExpiryBacklogOptions = { requests: 400, grants: 40, receiverDelayMs: 5000, spacingMs: 500 };

const log = (line: string) => process.stderr.write(`${line}\n`);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** A receiver that answers 200 only after `delayMs`, like an overloaded system downstream. */
async function slowReceiver(delayMs: number) {
  const server = createServer((req, res) => {
    req.resume();
    const timer = setTimeout(() => res.writeHead(200).end('ok'), delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function runExpiryBacklogBench(opts: ExpiryBacklogOptions = DEFAULT_EXPIRY_BACKLOG_BENCH): Promise<void> {
  if (opts.grants > opts.requests) throw new Error('--grants cannot exceed --requests');
  const receiver = await slowReceiver(opts.receiverDelayMs);
  const dir = mkdtempSync(path.join(tmpdir(), 'interim-expiry-backlog-'));
  const adminToken = randomBytes(32).toString('base64url');
  const config = loadConfig({
    INTERIM_DATA_DIR: dir,
    INTERIM_MASTER_KEY: randomBytes(32).toString('base64'),
    INTERIM_ADMIN_EMAIL: 'bench-admin@bench.test',
    INTERIM_ADMIN_PASSWORD: 'benchmark admin password',
    INTERIM_BOOTSTRAP_TOKEN: adminToken,
    INTERIM_RUN_WORKER: 'false',
    INTERIM_LOG_LEVEL: 'silent',
    INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true',
    INTERIM_OUTBOUND_TIMEOUT_MS: '60000',
  });
  const app = await buildApp(config, { logger: false });
  // The first admin (and its API token) is made when a server listens; this one never does.
  await app.bootstrap();
  let worker: ReturnType<typeof startWorker> | undefined;
  try {
    const call = async (url: string, payload: object) => {
      const res = await app.http.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${adminToken}` } });
      if (res.statusCode !== 201) throw new Error(`POST ${url} → ${res.statusCode}: ${res.body}`);
      return (res.json() as { id: string }).id;
    };
    const appId = await call('/api/v1/applications', { name: 'Backlog Bench App', redirect_uris: ['https://app.bench.test/callback'] });
    const holders = await call('/api/v1/groups', { name: 'backlog-bench-holders' });
    const requesters = await call('/api/v1/groups', { name: 'backlog-bench-requesters' });
    const mapping = await call('/api/v1/mappings', { app_id: appId, claim: 'roles', value: ['admin'], group_ids: [holders] });
    const templateId = await call('/api/v1/access-request-templates', {
      name: 'Backlog Bench',
      app_id: appId,
      mapping_ids: [mapping],
      allowed_durations: [60],
      requester_group_ids: [requesters],
      auto_approve: true,
      require_justification: false,
      approval: 'open',
    });
    await call('/api/v1/event-actions', { name: 'slow receiver', event_types: ['access_request.submitted', 'access_request.approved', 'access_request.expired'], kind: 'webhook', config: { url: `${receiver.url}/hook` } });

    const now = Date.now();
    const users = benchUserRows(opts.requests, 'backlog', now);
    const db = app.core.db;
    await db.transaction().execute(async (trx) => {
      await insertInBatches(trx, 'users', users);
      await insertInBatches(trx, 'memberships', users.map((u) => ({ group_id: requesters, user_id: u.id, expires_at: null, created_at: now })));
    });
    const requestIds: string[] = [];
    for (const user of users) {
      const actor: Actor = { userId: user.id, isAdmin: false, via: 'session', mustChangePassword: false };
      requestIds.push((await app.services.requests.submit(actor, { template_id: templateId, duration_mins: 60, justification: '', fields: {} })).id);
    }
    const backlog = await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();

    worker = startWorker(app.tasks, { log: { info: () => undefined, warn: () => undefined, error: (o: object) => log(`worker error ${JSON.stringify(o)}`) } as never });
    // Let the delivery task fill its slots with slow attempts first.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // These grants now end one after another, starting 3 s from now.
    const measured = requestIds.slice(0, opts.grants);
    const first = Date.now() + 3000;
    for (const [i, id] of measured.entries()) await db.updateTable('access_requests').set({ expires_at: first + i * opts.spacingMs }).where('id', '=', id).execute();
    const last = first + (opts.grants - 1) * opts.spacingMs;
    log(`sqlite: ${opts.requests} requests, ${backlog.n} deliveries queued to a receiver that answers after ${opts.receiverDelayMs} ms; ${opts.grants} grants end ${opts.spacingMs} ms apart`);
    await new Promise((resolve) => setTimeout(resolve, last - Date.now() + 5000));

    const rows = await db
      .selectFrom('outbox_events as e')
      .innerJoin('access_requests as r', 'r.id', 'e.request_id')
      .select(['r.id', 'r.expires_at', 'e.occurred_at'])
      .where('e.type', '=', 'access_request.expired')
      .where('r.id', 'in', measured)
      .execute();
    const lags = rows.map((r) => r.occurred_at - r.expires_at!).sort((a, b) => a - b);
    const stillQueued = await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'in', ['pending', 'running']).executeTakeFirstOrThrow();
    const result = {
      dialect: 'sqlite',
      backlog: Number(backlog.n),
      backlogLeftAtEnd: Number(stillQueued.n),
      grants: opts.grants,
      expired: rows.length,
      lagMs: lags.length ? { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: lags.at(-1)! } : null,
      verified: rows.length === opts.grants && lags.length > 0 && quantile(lags, 0.99) <= 2000,
    };
    log(
      `sqlite: ${rows.length}/${opts.grants} expired; lag from expires_at to the expired event p50 ${result.lagMs?.p50} ms, p99 ${result.lagMs?.p99} ms, max ${result.lagMs?.max} ms; ${stillQueued.n} deliveries still queued; ${availableParallelism()} cores, Node ${process.version}`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (!result.verified) process.exitCode = 1;
  } finally {
    await worker?.stop().catch(() => undefined);
    await receiver.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
