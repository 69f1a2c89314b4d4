import type { FastifyBaseLogger } from 'fastify';

/** When a run should stop starting new work. Real (monotonic) time: budgets are about load, not about the Clock. */
export interface Budget {
  /** True once the run's time budget is spent; a task that loops checks it between chunks. */
  spent(): boolean;
}

/** One piece of due work. It finds what is due with queries, so a crash or restart loses nothing. */
export interface WorkerTask {
  name: string;
  /** Pause between the end of one run and the start of the next. */
  everyMs: number;
  /** How long one run may keep starting new chunks of work. */
  budgetMs: number;
  /** Does what is due now (in chunks, until nothing is due or the budget is spent); returns how much it did. */
  run(budget: Budget): Promise<number>;
}

export interface WorkerHandle {
  /** Stops scheduling and waits for the runs in progress. */
  stop(): Promise<void>;
}

type Log = Pick<FastifyBaseLogger, 'error' | 'info' | 'warn'>;

/** A budget that is never spent: a run that must finish everything due (tests, `runWorkerOnce`). */
export const UNBOUNDED: Budget = { spent: () => false };

/** A budget of `ms` from now, also spent once `stopping()` says so, so a shutdown does not wait for a whole budget. */
export function budgetOf(ms: number, stopping: () => boolean = () => false): Budget {
  const end = performance.now() + ms;
  return { spent: () => stopping() || performance.now() >= end };
}

/** Runs a task once, logging what it did; a failure is logged, never thrown, so the schedule goes on. */
async function runLogged(task: WorkerTask, budget: Budget, log: Log): Promise<void> {
  const started = performance.now();
  try {
    const done = await task.run(budget);
    if (done > 0) log.info({ task: task.name, done }, 'worker task did work');
  } catch (err) {
    log.error({ err, task: task.name }, 'worker task failed');
  }
  const tookMs = performance.now() - started;
  // Work in flight (one slow delivery) may outlast the budget; say so, it delays only this task.
  if (tookMs > 2 * task.budgetMs) log.warn({ task: task.name, tookMs: Math.round(tookMs), budgetMs: task.budgetMs }, 'worker task overran its time budget');
}

/**
 * Runs each task on its own schedule, independently: one loop per task, so a slow task
 * (deliveries to a receiver that never answers) never delays another (expiry). A task
 * never overlaps itself in one process; several processes share the work through the
 * database (SKIP LOCKED claims, conditional updates). Runs inside the server or alone
 * (`interim worker`).
 */
export function startWorker(tasks: readonly WorkerTask[], opts: { log: Log }): WorkerHandle {
  let stopped = false;
  const loops = tasks.map((task) => {
    const loop = { running: undefined as Promise<void> | undefined, timer: undefined as NodeJS.Timeout | undefined };
    const schedule = () => {
      if (stopped) return;
      loop.timer = setTimeout(() => {
        loop.running = runLogged(task, budgetOf(task.budgetMs, () => stopped), opts.log).finally(() => {
          loop.running = undefined;
          schedule();
        });
      }, task.everyMs);
      loop.timer.unref();
    };
    schedule();
    return { task, loop };
  });
  return {
    async stop() {
      stopped = true;
      for (const { loop } of loops) clearTimeout(loop.timer);
      await Promise.all(loops.map(({ loop }) => loop.running));
    },
  };
}
