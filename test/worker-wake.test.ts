import { describe, expect, it } from 'vitest';
import { MIN_PAUSE_MS, startWorker, type WorkerTask } from '../src/worker/worker.ts';

const quiet = { error: () => undefined, info: () => undefined, warn: () => undefined };
const waitFor = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('worker tasks that wake others', () => {
  it('runs a woken task at once instead of at its next turn, and only after a run that did work', async () => {
    const runs: string[] = [];
    let due = 0;
    const producer: WorkerTask = { name: 'expire', everyMs: 20, budgetMs: 1000, wakes: ['deliver'], run: async () => (runs.push('expire'), due > 0 ? due-- : 0) };
    const consumer: WorkerTask = { name: 'deliver', everyMs: 60_000, budgetMs: 1000, run: async () => (runs.push('deliver'), 0) };
    const worker = startWorker([producer, consumer], { log: quiet });
    try {
      await waitFor(() => runs.filter((r) => r === 'expire').length >= 3);
      expect(runs).not.toContain('deliver'); // runs that did nothing wake nobody
      due = 1;
      await waitFor(() => runs.includes('deliver'));
      expect(runs.filter((r) => r === 'deliver')).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });

  it('runs a task woken during its own run again straight after it, since the run may have missed what woke it', async () => {
    const consumerRuns: number[] = [];
    let producerCalls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Its first two runs do work: the first wakes the consumer, the second wakes it while it runs.
    const producer: WorkerTask = { name: 'expire', everyMs: 20, budgetMs: 1000, wakes: ['deliver'], run: async () => (++producerCalls <= 2 ? 1 : 0) };
    const consumer: WorkerTask = {
      name: 'deliver',
      everyMs: 60_000, // only a wake can bring a run within this test
      budgetMs: 1000,
      run: async () => {
        consumerRuns.push(Date.now());
        if (consumerRuns.length === 1) await gate;
        return 0;
      },
    };
    const worker = startWorker([producer, consumer], { log: quiet });
    try {
      await waitFor(() => producerCalls >= 2);
      expect(consumerRuns).toHaveLength(1);
      release();
      await waitFor(() => consumerRuns.length >= 2);
      expect(consumerRuns).toHaveLength(2);
    } finally {
      await worker.stop();
    }
  });

  it('starts the next run when the task says its work is due, if that is before its turn, never sooner than the minimum pause', async () => {
    const runs: number[] = [];
    let dueIn: number | null = 100;
    const task: WorkerTask = { name: 'expire', everyMs: 600, budgetMs: 1000, run: async () => (runs.push(performance.now()), 0), dueInMs: async () => dueIn };
    const worker = startWorker([task], { log: quiet });
    const gapAfter = async (at: number) => {
      await waitFor(() => runs.length >= at + 2);
      return runs[at + 1]! - runs[at]!;
    };
    try {
      expect(await gapAfter(0)).toBeLessThan(400); // due in 100 ms: not the 600 ms turn
      dueIn = null; // nothing known: the turn
      expect(await gapAfter(runs.length)).toBeGreaterThanOrEqual(500);
      dueIn = -5_000; // overdue work that stays due: the floor, not a tight loop
      const gap = await gapAfter(runs.length);
      expect(gap).toBeGreaterThanOrEqual(MIN_PAUSE_MS - 5);
      expect(gap).toBeLessThan(400);
    } finally {
      await worker.stop();
    }
  });
});
