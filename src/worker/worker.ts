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
  /**
   * Tasks of this process to run at once after a run of this one that did work, instead of
   * at their next turn: expiry queues the deliveries that tell applications (issue 13), so
   * the delivery task starts on them without waiting out its pause.
   */
  wakes?: readonly string[];
  /**
   * How long until its next work is due, when the task can tell (null: nothing known). The
   * next run starts then when that is sooner than `everyMs`: a grant ends at its instant,
   * not up to a pause later. Never sooner than MIN_PAUSE_MS, so work that stays due (a row
   * another transaction holds) is not retried in a tight loop.
   */
  dueInMs?(): Promise<number | null>;
}

/** The shortest pause a task's `dueInMs` can ask for. */
export const MIN_PAUSE_MS = 100;

export interface WorkerHandle {
  /** Runs the named task now (or straight after its run in progress), instead of at its next turn. */
  wake(name: string): void;
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

/** Runs a task once, logging what it did; a failure is logged, never thrown, so the schedule goes on. Returns how much it did. */
async function runLogged(task: WorkerTask, budget: Budget, log: Log): Promise<number> {
  const started = performance.now();
  let done = 0;
  try {
    done = await task.run(budget);
    if (done > 0) log.info({ task: task.name, done }, 'worker task did work');
  } catch (err) {
    log.error({ err, task: task.name }, 'worker task failed');
  }
  const tookMs = performance.now() - started;
  // Work in flight (one slow delivery) may outlast the budget; say so, it delays only this task.
  if (tookMs > 2 * task.budgetMs) log.warn({ task: task.name, tookMs: Math.round(tookMs), budgetMs: task.budgetMs }, 'worker task overran its time budget');
  return done;
}

/** `everyMs`, or less when the task knows its next work is due sooner (never below MIN_PAUSE_MS). */
async function pauseAfterRun(task: WorkerTask, log: Log): Promise<number> {
  if (!task.dueInMs) return task.everyMs;
  try {
    const due = await task.dueInMs();
    return due === null ? task.everyMs : Math.min(task.everyMs, Math.max(MIN_PAUSE_MS, due));
  } catch (err) {
    log.warn({ err, task: task.name }, 'worker task could not tell when its next work is due');
    return task.everyMs;
  }
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
  const byName = new Map<string, { wake(): void }>();
  const loops = tasks.map((task) => {
    const loop = { running: undefined as Promise<void> | undefined, timer: undefined as NodeJS.Timeout | undefined, woken: false };
    const start = () => {
      loop.running = runLogged(task, budgetOf(task.budgetMs, () => stopped), opts.log).then(async (done) => {
        if (done > 0) for (const name of task.wakes ?? []) byName.get(name)?.wake();
        const pause = await pauseAfterRun(task, opts.log);
        loop.running = undefined;
        schedule(pause);
      });
    };
    const schedule = (pause: number) => {
      if (stopped) return;
      // Woken during a run: what woke it may have committed after this run's last claim.
      const delay = loop.woken ? 0 : pause;
      loop.woken = false;
      loop.timer = setTimeout(start, delay);
      loop.timer.unref();
    };
    byName.set(task.name, {
      wake() {
        if (stopped) return;
        if (loop.running) {
          loop.woken = true;
          return;
        }
        clearTimeout(loop.timer);
        loop.woken = false;
        start();
      },
    });
    schedule(task.everyMs);
    return { task, loop };
  });
  return {
    wake: (name) => byName.get(name)?.wake(),
    async stop() {
      stopped = true;
      for (const { loop } of loops) clearTimeout(loop.timer);
      await Promise.all(loops.map(({ loop }) => loop.running));
    },
  };
}
