import cluster, { type Worker } from 'node:cluster';
import { buildApp } from './app.ts';
import { systemClock } from './clock.ts';
import { openCore } from './compose.ts';
import type { Config } from './config.ts';
import { bootstrapHooks } from './modules/api-tokens/bootstrap-token.ts';
import { bootstrapFirstAdmin, type BootstrapResult } from './modules/users/bootstrap.ts';
import { loadOidcKeys } from './oidc/keys.ts';
import { createEncrypter } from './security/encryption.ts';
import { resealLegacySecrets } from './security/reseal.ts';
import { stopOnSignal } from './signals.ts';
import { startWorker } from './worker/worker.ts';

/**
 * `interim serve` with several processes (INTERIM_PROCESSES, one per core by default),
 * through node:cluster: the primary forks the server processes, which share the port
 * (the primary accepts connections and hands them out in turn).
 *
 * What runs once, in the primary: migrations and key generation before any process is
 * forked, and the first-admin bootstrap once every process listens (so a port that
 * cannot be bound fails before a one-time password exists); then the start-up line.
 * The primary serves no requests and holds no database connection after that.
 *
 * What runs in every server process: HTTP, OIDC and the live hub. Everything they must
 * agree on lives in the database (docs/operations.md, "Several processes").
 *
 * The background worker runs in one server process (slot 1; a restarted slot 1 runs it
 * again). Its tasks would be safe in every process, as they are across instances (they
 * claim work with conditional updates and SKIP LOCKED), but one loop per host keeps the
 * per-process settings (delivery concurrency, script workers) meaning what they say and
 * adds no SQLite writers competing with the token endpoint for nothing.
 */

/** Which slot a server process fills (1…N); a process restarted after a crash keeps its slot. */
const SLOT_ENV = 'INTERIM_PROCESS_SLOT';

type ToPrimary = { type: 'listening'; address: string } | { type: 'failed'; code?: string; message: string; stack?: string };

export interface ClusterOutput {
  /** main.ts's one-line explanation of a port that cannot be bound. */
  listenError(error: unknown): unknown;
  /** Prints the bootstrap result and the start-up line (once, from the primary). */
  started(address: string, bootstrap: BootstrapResult): void;
  log(line: string): void;
}

/** A server process that crashes is started again after this pause, doubled while it keeps crashing soon after start. */
const RESTART_DELAY_MS = { first: 100, max: 30_000, steadyAfterMs: 30_000 };
/** How long a graceful stop may take before the remaining processes are killed. */
const STOP_TIMEOUT_MS = 60_000;

export function isServerProcess(): boolean {
  return cluster.isWorker;
}

/**
 * The primary: prepares the database once, forks `config.processes` server processes,
 * bootstraps when all listen, restarts a process that dies, and on SIGTERM or SIGINT
 * stops them all gracefully and exits.
 */
export async function runPrimary(config: Config, output: ClusterOutput): Promise<void> {
  const { database, core } = await openCore(config, systemClock);
  let databaseOpen = true;
  const closeDatabase = async () => {
    if (!databaseOpen) return;
    databaseOpen = false;
    await database.close();
  };
  try {
    // As compose() does, in this order; every process would do both safely (conditional
    // updates, a lock row), but once, before they start, is enough.
    const encrypter = createEncrypter(config.masterKey);
    await resealLegacySecrets(core.db, encrypter);
    await loadOidcKeys(core, encrypter);
  } catch (error) {
    await closeDatabase();
    throw error;
  }

  const slots = new Map<number, Worker>();
  const restartDelay = new Map<number, number>();
  let stopping = false;
  let running = false;

  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot) });
    const forkedAt = performance.now();
    slots.set(slot, worker);
    worker.on('exit', (code, signal) => {
      if (slots.get(slot) === worker) slots.delete(slot);
      if (stopping || !running) return;
      const ranMs = performance.now() - forkedAt;
      const previous = restartDelay.get(slot);
      const delay = ranMs >= RESTART_DELAY_MS.steadyAfterMs || previous === undefined ? RESTART_DELAY_MS.first : Math.min(RESTART_DELAY_MS.max, previous * 2);
      restartDelay.set(slot, delay);
      output.log(`server process ${worker.process.pid} (slot ${slot}) exited (${signal ?? `code ${code}`}); starting another in ${delay} ms`);
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delay).unref();
    });
    return worker;
  };

  const allExited = () =>
    Promise.all(
      [...slots.values()].map((w) => (w.isDead() ? undefined : new Promise<void>((resolve) => w.once('exit', () => resolve())))),
    );

  async function stopAll(): Promise<void> {
    stopping = true;
    const exited = allExited();
    for (const worker of slots.values()) if (!worker.isDead()) worker.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const worker of slots.values()) if (!worker.isDead()) worker.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    await closeDatabase();
  }

  // Handlers first, before any process exists: a signal during start-up stops everything too.
  const stopRequested = stopOnSignal(stopAll, (line) => output.log(line));

  let address: string;
  try {
    address = await startAll(config.processes, fork);
  } catch (error) {
    await stopAll();
    if (stopRequested()) return new Promise(() => undefined); // the signal handler exits
    const failure = error as ToPrimary & { type: 'failed' };
    const explained = output.listenError(failure);
    throw explained === failure ? new Error(failure.stack ?? failure.message) : explained;
  }
  running = true;
  const bootstrap = await bootstrapFirstAdmin(core, config.bootstrap, bootstrapHooks(core));
  await closeDatabase();
  output.started(address, bootstrap);
}

/** Forks `count` processes and resolves with the address once all listen; rejects with the first failure. */
function startAll(count: number, fork: (slot: number) => Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    let listening = 0;
    let settled = false;
    const fail = (failure: ToPrimary) => {
      if (settled) return;
      settled = true;
      reject(failure);
    };
    for (let slot = 1; slot <= count; slot++) {
      const worker = fork(slot);
      worker.on('message', (message: ToPrimary) => {
        if (message.type === 'failed') return fail(message);
        if (message.type !== 'listening' || settled) return;
        if (++listening === count) {
          settled = true;
          resolve(message.address);
        }
      });
      worker.on('exit', (code, signal) => fail({ type: 'failed', message: `a server process exited during start-up (${signal ?? `code ${code}`})` }));
    }
  });
}

/**
 * A server process: builds the whole app (its own database pool, provider and live hub),
 * listens on the shared port and tells the primary; slot 1 also runs the worker.
 * It stops gracefully on SIGTERM and SIGINT.
 */
export async function runServerProcess(config: Config): Promise<void> {
  const slot = Number(process.env[SLOT_ENV] ?? '1');
  const send = (message: ToPrimary) => new Promise<void>((resolve) => process.send!(message, undefined, undefined, () => resolve()));
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  try {
    app = await buildApp(config);
    const address = await app.http.listen({ host: config.host, port: config.port });
    const built = app;
    const worker = config.runWorker && slot === 1 ? startWorker(built.tasks, { log: built.http.log }) : undefined;
    stopOnSignal(async () => {
      await worker?.stop();
      await built.close();
    });
    await send({ type: 'listening', address });
  } catch (error) {
    await app?.close().catch(() => undefined);
    const err = error as { code?: unknown; message?: unknown; stack?: unknown };
    await send({
      type: 'failed',
      ...(typeof err?.code === 'string' ? { code: err.code } : {}),
      message: String(err?.message ?? error),
      ...(typeof err?.stack === 'string' ? { stack: err.stack } : {}),
    });
    process.exit(1);
  }
}
