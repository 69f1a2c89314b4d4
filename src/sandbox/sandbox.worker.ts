import { parentPort } from 'node:worker_threads';
import { loadEngine } from './engine.ts';
import { runGuest } from './guest-runner.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

/**
 * One sandbox worker thread: compiles QuickJS once, then runs one script at a time,
 * each in a fresh QuickJS instance. The pool terminates this thread when a run
 * overstays its time limit, so nothing here has to be trusted to stop.
 */
const port = parentPort;
if (!port) throw new Error('sandbox.worker.ts runs only as a worker thread');
const send = (message: FromWorker) => port.postMessage(message);

const engine = await loadEngine();
port.on('message', (message: ToWorker) => {
  void runGuest(engine, message.job, message.limits)
    .catch((error: unknown) => ({ status: 'failed' as const, error: `the sandbox failed: ${(error as Error).message}`, logs: [] }))
    .then((outcome) => send({ type: 'result', id: message.id, outcome }));
});
send({ type: 'ready' });
