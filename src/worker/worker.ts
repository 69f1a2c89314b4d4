import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../core.ts';
import { purgeExpiredState } from './purge.ts';

/** One piece of due work. It finds what is due with queries, so a restart loses nothing. */
export interface WorkerTask {
  name: string;
  run(core: Core): Promise<number>;
}

export const TASKS: WorkerTask[] = [{ name: 'purge-expired-state', run: purgeExpiredState }];

export interface WorkerHandle {
  /** Runs every task once now; tests call it after moving the clock. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs every task each interval, one tick at a time. Runs in the server or alone (`interim worker`). */
export function startWorker(core: Core, opts: { intervalMs: number; log: Pick<FastifyBaseLogger, 'error' | 'info'> }): WorkerHandle {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = async () => {
    for (const task of TASKS) {
      try {
        const done = await task.run(core);
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
