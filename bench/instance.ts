import { buildApp } from '../src/app.ts';
import { UNBOUNDED } from '../src/worker/worker.ts';
import { loadConfig } from '../src/config.ts';

/**
 * One Interim instance in its own process, for the benchmarks that run several instances on
 * one database (bench/expiry.ts, bench/submissions.ts). Its configuration is the
 * environment, as for `interim serve`; BENCH_INSTANCE says what it does:
 *
 * - `serve`: builds the app and listens (worker off), like one `interim serve` process.
 * - `expire`: builds the app with the clock frozen at BENCH_NOW, tells the parent it is ready,
 *   and on the parent's `go` runs expireDueGrants() once, reporting how many it ended, how
 *   long it took and the event loop's longest stall and p99 gap between turns meanwhile.
 * - `serve-expire` (expiry --token-load): both at once, as one `interim serve` process with
 *   the worker inside (INTERIM_PROCESSES=1): listens on the real clock (so sign-ins and codes
 *   are on time), and on `go` moves its clock to BENCH_NOW and runs the worker's expire-grants
 *   task once while it keeps serving token requests.
 *
 * Messages go over the IPC channel of child_process.fork.
 */
const mode = process.env.BENCH_INSTANCE;

async function expire(): Promise<void> {
  const due = Number(process.env.BENCH_NOW);
  let now = due - 60_000;
  const app = await buildApp(loadConfig(process.env), { clock: { now: () => now }, logger: false });
  await app.services.requests.expireDueGrants(); // a minute early, nothing is due: warms up the claim
  now = due;
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  await timedExpiry(app);
  await app.close();
}

/** Runs `expire` (expireDueGrants() or the worker's task) once and reports it with the event loop's gaps meanwhile. */
async function timedExpiry(app: Awaited<ReturnType<typeof buildApp>>, expire: () => Promise<number> = () => app.services.requests.expireDueGrants()): Promise<void> {
  // How long the event loop went without a turn: with the worker inside the server, that is
  // how long HTTP requests (the token endpoint) wait behind expiry. A 1 ms ticker, since
  // monitorEventLoopDelay drops its first sample (a loop blocked from the start reads as idle).
  const gaps: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const at = performance.now();
    gaps.push(at - last);
    last = at;
  }, 1);
  const started = performance.now();
  const expired = await expire();
  const ms = performance.now() - started;
  gaps.push(performance.now() - last);
  clearInterval(ticker);
  gaps.sort((a, b) => a - b);
  process.send!({ expired, ms, maxStallMs: gaps[gaps.length - 1]!, p99DelayMs: gaps[Math.floor(gaps.length * 0.99)]! });
}

async function serveExpire(): Promise<void> {
  const due = Number(process.env.BENCH_NOW);
  let offset = 0; // the real clock until `go`, then BENCH_NOW onwards (oidc-provider keeps the real one: refresh tokens live 30 days)
  const app = await buildApp(loadConfig(process.env), { clock: { now: () => Date.now() + offset }, logger: false });
  const { address } = await app.listen();
  await app.services.requests.expireDueGrants(); // nothing is due yet: warms up the claim
  process.send!({ ready: true, address });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  offset = due - Date.now();
  // What the worker runs: its expire-grants task, with the task's own settings.
  const task = app.tasks.find((t) => t.name === 'expire-grants');
  if (!task) throw new Error('no expire-grants worker task');
  await timedExpiry(app, () => task.run(UNBOUNDED));
}

async function serve(): Promise<void> {
  const app = await buildApp(loadConfig(process.env), { logger: false });
  const { address } = await app.listen();
  process.send!({ ready: true, address });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

const modes: Record<string, () => Promise<void>> = { expire, serve, 'serve-expire': serveExpire };
(modes[mode ?? ''] ?? (() => Promise.reject(new Error(`BENCH_INSTANCE must be expire, serve or serve-expire, not ${mode}`))))().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
