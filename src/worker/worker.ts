import type { FastifyBaseLogger } from 'fastify';

/** One piece of due work. It finds what is due with queries, so a crash or restart loses nothing. */
export interface WorkerTask {
  name: string;
  /** Does what is due now; returns how much it did. */
  run(): Promise<number>;
}

export interface WorkerHandle {
  /** Runs every task once now; tests call it after moving the clock. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs every task each interval, one tick at a time. Runs inside the server or alone (`interim worker`). */
export function startWorker(tasks: readonly WorkerTask[], opts: { intervalMs: number; log: Pick<FastifyBaseLogger, 'error' | 'info'> }): WorkerHandle {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = async () => {
    for (const task of tasks) {
      try {
        const done = await task.run();
        if (done > 0) opts.log.info({ task: task.name, done }, 'worker task did work');
      } catch (err) {
        opts.log.error({ err, task: task.name }, 'worker task failed');
      }
    }
  };
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = tick().finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();
  return {
    tick: async () => {
      await running;
      await tick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
