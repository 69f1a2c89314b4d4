import type { OutboundPolicy } from '../net/safe-fetch.ts';

/** What a script run may use, and the messages between the pool and its worker threads. */

export type ScriptRunStatus = 'succeeded' | 'failed' | 'timed_out';
export type LogLevel = 'info' | 'warn' | 'error';

/** The fixed limits of one run besides memory and time (docs/scripts.md lists them). */
export const GUEST_LIMITS = {
  logEntries: 500,
  logBytes: 64 * 1024,
  fetchesPerRun: 50,
  requestBodyBytes: 1024 * 1024,
  /** QuickJS's own stack limit: deep recursion becomes a RangeError, not a crash. */
  stackBytes: 256 * 1024,
  errorChars: 2000,
} as const;

export interface GuestJob {
  /** The body of an async function: top-level await works; a throw or rejection fails the run. */
  source: string;
  /** What config.get(key) answers. */
  config: Record<string, string>;
  /** Only the secrets granted to this script: what secrets.get(name) answers. */
  secrets: Record<string, string>;
  /** Hosts http.fetch may reach (exact, lowercase). */
  allowedHosts: string[];
}

export interface GuestLimits {
  memoryBytes: number;
  timeoutMs: number;
  outbound: Omit<OutboundPolicy, 'allowedHosts'>;
}

export interface GuestLog {
  level: LogLevel;
  message: string;
  /** Milliseconds since the run started. */
  offsetMs: number;
}

export interface GuestOutcome {
  status: ScriptRunStatus;
  error: string | null;
  logs: GuestLog[];
}

export type ToWorker = { type: 'run'; id: number; job: GuestJob; limits: GuestLimits };
export type FromWorker = { type: 'ready' } | { type: 'result'; id: number; outcome: GuestOutcome };
