import { Worker } from 'node:worker_threads';
import type { Clock } from '../clock.ts';
import type { OutboundPolicy } from '../net/safe-fetch.ts';
import type { FromWorker, GuestJob, GuestOutcome, LogLevel, ScriptRunStatus, ToWorker } from './protocol.ts';

export interface SandboxSettings {
  /** Worker threads; each runs one script at a time. */
  workers: number;
  memoryMb: number;
  /** Wall-clock limit of one run, from the moment a worker takes it. */
  timeoutMs: number;
  outbound: Omit<OutboundPolicy, 'allowedHosts'>;
}

export interface ScriptLog {
  level: LogLevel;
  message: string;
  /** Epoch milliseconds, from the Clock. */
  at: number;
}

export interface SandboxRunResult {
  status: ScriptRunStatus;
  /** Epoch milliseconds (Clock) when a worker took the run. */
  startedAt: number;
  durationMs: number;
  logs: ScriptLog[];
  error: string | null;
}

export interface RunHooks {
  /**
   * Called once, when a worker takes the run (not when it is queued), with the Clock's
   * time: deadlines that should measure the script itself start here. It must not throw.
   */
  onStart?: (startedAt: number) => void;
}

export interface Sandbox {
  /** Runs a script. Guest failures are results; it rejects only once the pool is closed. */
  run(job: GuestJob, hooks?: RunHooks): Promise<SandboxRunResult>;
  /** Terminates every worker. Runs still queued or running are rejected. */
  close(): Promise<void>;
  /** Runs that would start at once now: workers neither busy nor spoken for by the queue. */
  freeCapacity(): number;
}

/**
 * How long past its limit a run may stay silent before its worker is terminated. The
 * worker stops CPU loops itself at the limit; this is the backstop for anything that
 * does not return to the interpreter (and it is what guarantees the limit).
 */
const KILL_GRACE_MS = 250;
const MAX_QUEUED = 1000;
const WORKER_URL = new URL('./sandbox.worker.ts', import.meta.url);

interface Running {
  id: number;
  startedAt: number;
  t0: number;
  timer: NodeJS.Timeout;
  resolve: (result: SandboxRunResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  gone: boolean;
  running: Running | null;
}

interface Queued {
  job: GuestJob;
  onStart?: RunHooks['onStart'];
  resolve: (result: SandboxRunResult) => void;
  reject: (error: Error) => void;
}

/**
 * A pool of worker threads for scripts. Workers start on first use and are replaced
 * when one is terminated for overstaying its time limit or dies.
 */
export function createSandboxPool(settings: SandboxSettings, clock: Clock): Sandbox {
  const slots: Slot[] = [];
  const queue: Queued[] = [];
  let nextId = 1;
  let closed = false;
  const limits = { memoryBytes: settings.memoryMb * 1024 * 1024, timeoutMs: settings.timeoutMs, outbound: settings.outbound };

  function spawn(): void {
    const worker = new Worker(WORKER_URL, {
      // The guest's heap lives in WebAssembly memory capped per run (engine.ts); this
      // bounds what the host side of a worker may hold (log text, response bodies).
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
    });
    const slot: Slot = { worker, ready: false, gone: false, running: null };
    slots.push(slot);
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') {
        slot.ready = true;
        pump();
      } else {
        finish(slot, message.id, message.outcome);
      }
    });
    worker.on('error', (error) => lose(slot, `the sandbox worker failed: ${error.message}`));
    worker.on('exit', (code) => lose(slot, `the sandbox worker exited (code ${code})`));
  }

  function pump(): void {
    while (queue.length > 0) {
      const idle = slots.find((s) => s.ready && !s.gone && !s.running);
      if (!idle) {
        if (!closed && slots.length < settings.workers) spawn();
        return;
      }
      start(idle, queue.shift()!);
    }
  }

  function start(slot: Slot, queued: Queued): void {
    const running: Running = {
      id: nextId++,
      startedAt: clock.now(),
      t0: performance.now(),
      timer: setTimeout(() => overstayed(slot), settings.timeoutMs + KILL_GRACE_MS),
      resolve: queued.resolve,
      reject: queued.reject,
    };
    slot.running = running;
    const message: ToWorker = { type: 'run', id: running.id, job: queued.job, limits };
    slot.worker.postMessage(message);
    try {
      queued.onStart?.(running.startedAt);
    } catch {
      // A caller's bookkeeping must not take the pool down; the run goes on regardless.
    }
  }

  function finish(slot: Slot, id: number, outcome: GuestOutcome): void {
    const running = slot.running;
    if (!running || running.id !== id) return;
    clearTimeout(running.timer);
    slot.running = null;
    running.resolve({
      status: outcome.status,
      startedAt: running.startedAt,
      durationMs: Math.round(performance.now() - running.t0),
      logs: outcome.logs.map((l) => ({ level: l.level, message: l.message, at: running.startedAt + l.offsetMs })),
      error: outcome.error,
    });
    pump();
  }

  /** The wall-clock limit, enforced from outside: the worker goes, its run is timed out. */
  function overstayed(slot: Slot): void {
    const running = slot.running;
    if (!running || slot.gone) return;
    retire(slot);
    running.resolve({
      status: 'timed_out',
      startedAt: running.startedAt,
      durationMs: Math.round(performance.now() - running.t0),
      logs: [],
      error: `the script did not finish within its time limit of ${settings.timeoutMs} ms, so its worker was terminated`,
    });
    if (!closed) spawn();
    pump();
  }

  function lose(slot: Slot, reason: string): void {
    if (slot.gone) return;
    const wasReady = slot.ready;
    const running = slot.running;
    retire(slot);
    if (running) {
      clearTimeout(running.timer);
      running.resolve({ status: 'failed', startedAt: running.startedAt, durationMs: Math.round(performance.now() - running.t0), logs: [], error: reason });
    }
    if (!wasReady && !slots.some((s) => s.ready)) {
      // A worker that cannot even start would be respawned forever; fail what waits instead.
      for (const queued of queue.splice(0)) queued.reject(new Error(`the script sandbox could not start: ${reason}`));
      return;
    }
    pump();
  }

  function retire(slot: Slot): void {
    slot.gone = true;
    slots.splice(slots.indexOf(slot), 1);
    void slot.worker.terminate();
  }

  return {
    run(job, hooks = {}) {
      if (closed) return Promise.reject(new Error('the script sandbox is closed'));
      if (queue.length >= MAX_QUEUED) return Promise.reject(new Error('the script sandbox is overloaded; try again later'));
      return new Promise<SandboxRunResult>((resolve, reject) => {
        queue.push({ job, onStart: hooks.onStart, resolve, reject });
        pump();
      });
    },
    freeCapacity() {
      if (closed) return 0;
      const busy = slots.filter((s) => s.running).length;
      return Math.max(0, settings.workers - busy - queue.length);
    },
    async close() {
      closed = true;
      const closing = new Error('the script sandbox is closed');
      for (const queued of queue.splice(0)) queued.reject(closing);
      await Promise.all(
        slots.splice(0).map((slot) => {
          slot.gone = true;
          if (slot.running) {
            clearTimeout(slot.running.timer);
            slot.running.reject(closing);
          }
          return slot.worker.terminate();
        }),
      );
    },
  };
}
