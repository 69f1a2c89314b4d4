import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { OutboundError, safeFetch, type OutboundResponse } from '../net/safe-fetch.ts';
import { isNearMemoryCap, type QuickJsEngine } from './engine.ts';
import { LogCapture, secretRedactor } from './log-capture.ts';
import { GUEST_LIMITS, type GuestJob, type GuestLimits, type GuestOutcome, type LogLevel } from './protocol.ts';

/**
 * Runs one script in a fresh QuickJS instance (see engine.ts) inside the current
 * worker thread. The guest sees only the globals the prelude defines: config, log,
 * http and secrets. CPU loops are stopped by the interrupt handler at the deadline;
 * the pool terminates the whole worker if this ever fails to answer in time.
 * Never throws: every failure becomes an outcome.
 */
export async function runGuest(engine: QuickJsEngine, job: GuestJob, limits: GuestLimits): Promise<GuestOutcome> {
  const started = performance.now();
  const deadline = started + limits.timeoutMs;
  const elapsed = () => Math.round(performance.now() - started);
  const redact = secretRedactor(Object.values(job.secrets));
  const logs = new LogCapture(redact);
  let interrupted = false;
  const outcome = (status: GuestOutcome['status'], error: string | null): GuestOutcome => ({
    status,
    error: error === null ? null : truncate(redact(error)),
    logs: logs.finish(elapsed()),
  });
  const timedOut = () => outcome('timed_out', `the script did not finish within its time limit of ${limits.timeoutMs} ms`);
  let module: QuickJSWASMModule | undefined;
  const describeFailure = (message: string | null) => {
    const outOfMemory = message === null ? module !== undefined && isNearMemoryCap(module, limits.memoryBytes) : /out of memory/i.test(message);
    if (outOfMemory) return `out of memory: the script exceeded its memory limit of ${Math.round(limits.memoryBytes / 1048576)} MiB`;
    return message ?? 'the script threw a value that is not an Error';
  };

  let runtime: QuickJSRuntime | undefined;
  const session: HostSession = { alive: true, abort: new AbortController(), inflight: new Set(), deferreds: new Set(), fetches: 0 };
  try {
    module = await engine.fresh(limits.memoryBytes);
    runtime = module.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(GUEST_LIMITS.stackBytes);
    runtime.setInterruptHandler(() => {
      if (performance.now() < deadline) return false;
      interrupted = true;
      return true;
    });
    const ctx = runtime.newContext();
    try {
      installGuestApi(ctx, job, limits, session, (level, message) => logs.add(level, message, elapsed()));
      const launched = startScript(ctx, job.source);
      if ('error' in launched) return interrupted ? timedOut() : outcome('failed', describeFailure(launched.error));
      const promise = launched.promise;
      try {
        for (;;) {
          const jobs = runtime.executePendingJobs();
          if (jobs.error) {
            const message = describeError(ctx, jobs.error);
            jobs.error.dispose();
            return interrupted ? timedOut() : outcome('failed', describeFailure(message));
          }
          const state = ctx.getPromiseState(promise);
          if (state.type === 'fulfilled') {
            state.value.dispose();
            return outcome('succeeded', null);
          }
          if (state.type === 'rejected') {
            const message = describeError(ctx, state.error);
            state.error.dispose();
            return interrupted ? timedOut() : outcome('failed', describeFailure(message));
          }
          if (session.inflight.size === 0) return outcome('failed', 'the script waited for a promise that nothing will ever settle');
          if (!(await settledBefore(session.inflight, deadline))) return timedOut();
        }
      } finally {
        promise.dispose();
      }
    } finally {
      session.alive = false;
      session.abort.abort();
      for (const deferred of session.deferreds) quietly(() => deferred.dispose());
      quietly(() => ctx.dispose());
    }
  } catch (error) {
    // A trap inside the WebAssembly instance (or any host-side surprise). The instance is
    // thrown away with the run, so nothing it broke survives.
    if (interrupted) return timedOut();
    return outcome('failed', `the sandbox stopped the script: ${(error as Error).message}`);
  } finally {
    session.alive = false;
    const rt = runtime;
    if (rt) quietly(() => rt.dispose());
  }
}

interface HostSession {
  /** False once the run is over: late host callbacks must not touch the disposed context. */
  alive: boolean;
  abort: AbortController;
  inflight: Set<Promise<void>>;
  /** Guest promises still waiting on the host; disposed before the context is. */
  deferreds: Set<QuickJSDeferredPromise>;
  fetches: number;
}

/**
 * Defines the guest API from four host functions and freezes it. The host functions
 * are arguments of the prelude, never globals, so the guest cannot reach them directly.
 */
const PRELUDE = `(function (hostLog, hostFetch, hostConfig, hostSecret) {
  'use strict';
  // Captured now, so a script that replaces globals or prototypes breaks only itself.
  const stringify = JSON.stringify, parse = JSON.parse, freeze = Object.freeze, defineProperty = Object.defineProperty;
  const toString = String, ErrorClass = Error, objectToString = Object.prototype.toString;
  const format = (value) => {
    try {
      if (typeof value === 'string') return value;
      if (value instanceof ErrorClass) return toString(value.name) + ': ' + toString(value.message);
      const json = stringify(value);
      return json === undefined ? toString(value) : json;
    } catch (e) {
      return objectToString.call(value);
    }
  };
  // Once the log is full, lines are only counted, not formatted.
  let full = false;
  const logger = (level) => (...args) => {
    let line;
    if (!full) {
      line = '';
      for (let i = 0; i < args.length; i++) line += (i === 0 ? '' : ' ') + format(args[i]);
      // More than the whole log may hold never needs to leave the guest.
      if (line.length > ${GUEST_LIMITS.logBytes}) line = line.slice(0, ${GUEST_LIMITS.logBytes + 1});
    }
    full = !hostLog(level, line);
  };
  const define = (name, value) => defineProperty(globalThis, name, { value: freeze(value), enumerable: false, writable: false, configurable: false });
  define('log', { info: logger('info'), warn: logger('warn'), error: logger('error') });
  define('config', { get: (key) => hostConfig(toString(key)) });
  define('secrets', { get: (name) => hostSecret(toString(name)) });
  define('http', { fetch: (url, init) => hostFetch(toString(url), stringify(init === undefined || init === null ? {} : init)).then(parse) });
})`;

function installGuestApi(ctx: QuickJSContext, job: GuestJob, limits: GuestLimits, session: HostSession, log: (level: LogLevel, message: string | undefined) => boolean): void {
  const lookup = (table: Record<string, string>, key: QuickJSHandle) => {
    const name = ctx.getString(key);
    return Object.hasOwn(table, name) ? ctx.newString(table[name]!) : ctx.undefined;
  };
  const hostLog = ctx.newFunction('log', (level, message) => {
    const name = ctx.getString(level);
    const accepted = log(name === 'warn' || name === 'error' ? name : 'info', ctx.typeof(message) === 'string' ? ctx.getString(message) : undefined);
    return accepted ? ctx.true : ctx.false;
  });
  const hostConfig = ctx.newFunction('get', (key) => lookup(job.config, key));
  const hostSecret = ctx.newFunction('get', (name) => lookup(job.secrets, name));
  const hostFetch = ctx.newFunction('fetch', (url, init) => {
    const deferred = ctx.newPromise();
    const op = guestFetch(ctx.getString(url), ctx.getString(init), job, limits, session).then(
      (response) => {
        if (!session.alive) return;
        ctx.newString(JSON.stringify(response)).consume((value) => deferred.resolve(value));
      },
      (error: unknown) => {
        if (!session.alive) return;
        const name = error instanceof OutboundError ? error.name : error instanceof TypeError ? 'TypeError' : 'Error';
        ctx.newError({ name, message: (error as Error).message }).consume((value) => deferred.reject(value));
      },
    );
    const tracked: Promise<void> = op.finally(() => {
      session.inflight.delete(tracked);
      if (!session.alive) return;
      session.deferreds.delete(deferred);
      deferred.dispose();
    });
    session.inflight.add(tracked);
    session.deferreds.add(deferred);
    return deferred.handle;
  });
  const prelude = ctx.unwrapResult(ctx.evalCode(PRELUDE, 'interim:prelude'));
  try {
    ctx.unwrapResult(ctx.callFunction(prelude, ctx.undefined, hostLog, hostFetch, hostConfig, hostSecret)).dispose();
  } finally {
    for (const handle of [prelude, hostLog, hostFetch, hostConfig, hostSecret]) handle.dispose();
  }
}

async function guestFetch(url: string, initJson: string, job: GuestJob, limits: GuestLimits, session: HostSession): Promise<OutboundResponse> {
  session.fetches++;
  if (session.fetches > GUEST_LIMITS.fetchesPerRun) throw new Error(`too many http.fetch calls: at most ${GUEST_LIMITS.fetchesPerRun} per run`);
  const init = JSON.parse(initJson) as unknown;
  if (typeof init !== 'object' || init === null || Array.isArray(init)) throw new TypeError('the second argument of http.fetch must be an object');
  const { method, headers, body } = init as Record<string, unknown>;
  if (method !== undefined && (typeof method !== 'string' || !/^[A-Za-z]{1,16}$/.test(method))) throw new TypeError('method must be an HTTP method name such as "POST"');
  if (headers !== undefined && !isStringRecord(headers)) throw new TypeError('headers must be an object whose values are strings');
  if (body !== undefined && typeof body !== 'string') throw new TypeError('body must be a string (use JSON.stringify for JSON)');
  if (body !== undefined && Buffer.byteLength(body) > GUEST_LIMITS.requestBodyBytes) throw new TypeError(`body must be at most ${GUEST_LIMITS.requestBodyBytes} bytes`);
  return safeFetch(url, { method, headers, body, signal: session.abort.signal }, { ...limits.outbound, allowedHosts: job.allowedHosts });
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Compiles the source as the body of an async function and calls it. */
function startScript(ctx: QuickJSContext, source: string): { promise: QuickJSHandle } | { error: string | null } {
  const asyncFunction = ctx.unwrapResult(ctx.evalCode('(async function () {}).constructor', 'interim:bootstrap'));
  const body = ctx.newString(source);
  const compiled = ctx.callFunction(asyncFunction, ctx.undefined, body);
  body.dispose();
  asyncFunction.dispose();
  if (compiled.error) {
    const error = describeError(ctx, compiled.error);
    compiled.error.dispose();
    return { error };
  }
  const called = ctx.callFunction(compiled.value, ctx.undefined);
  compiled.value.dispose();
  if (called.error) {
    const error = describeError(ctx, called.error);
    called.error.dispose();
    return { error };
  }
  return { promise: called.value };
}

/**
 * "Name: message" of a thrown Error, or the thrown value itself; null when it cannot be
 * read. Read from the host side with plain property reads, so it works even after an
 * out-of-memory error.
 */
function describeError(ctx: QuickJSContext, error: QuickJSHandle): string | null {
  try {
    const type = ctx.typeof(error);
    if (type === 'string') return ctx.getString(error);
    if (type === 'number' || type === 'boolean' || type === 'undefined') return `the script threw ${String(ctx.dump(error))}`;
    if (type === 'object') {
      const read = (key: string) =>
        ctx.getProp(error, key).consume((h) => (ctx.typeof(h) === 'string' ? ctx.getString(h) : undefined));
      const name = read('name');
      const message = read('message');
      if (message !== undefined) return name ? `${name}: ${message}` : message;
    }
  } catch {
    // fall through: the value could not be read (a hostile getter, or no memory left)
  }
  return null;
}

/** Waits until one host operation settles (true) or the deadline passes (false). */
async function settledBefore(inflight: Set<Promise<void>>, deadline: number): Promise<boolean> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), remaining);
  });
  try {
    return await Promise.race([Promise.race(inflight).then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function truncate(text: string): string {
  return text.length > GUEST_LIMITS.errorChars ? `${text.slice(0, GUEST_LIMITS.errorChars)}…` : text;
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // disposal of a run that died mid-way: the whole instance is discarded anyway
  }
}
