import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_PASSWORD_HASHING, OWASP_SCRYPT, type PasswordHashingSettings } from './security/passwords.ts';
import type { PostgresTimeouts } from './db/database.ts';

const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

/**
 * The OIDC issuer is `${INTERIM_BASE_URL}/oidc` and the portal, API and cookies live at
 * the root, so the base URL is an http(s) origin: checked here, before anything starts,
 * rather than failing deep inside oidc-provider after the first admin was created.
 */
const BASE_URL_RULE = 'must be an http:// or https:// origin such as https://id.example.com (no path, query, fragment or credentials)';
function isHttpOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  const okProtocol = url.protocol === 'http:' || url.protocol === 'https:';
  return okProtocol && url.hostname !== '' && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !value.includes('?') && !value.includes('#');
}

const envSchema = z.object({
  INTERIM_HOST: z.string().default('127.0.0.1'),
  INTERIM_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  INTERIM_BASE_URL: z.string().refine(isHttpOrigin, BASE_URL_RULE).optional(),
  INTERIM_DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL; leave it unset for the embedded SQLite database')
    .optional(),
  INTERIM_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(5000),
  INTERIM_DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3600000).default(10000),
  INTERIM_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1000).optional(),
  INTERIM_PROCESSES: z.coerce.number().int().min(1).max(1024).optional(),
  INTERIM_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  INTERIM_ADMIN_EMAIL: z.email().optional(),
  INTERIM_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  INTERIM_BOOTSTRAP_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  INTERIM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INTERIM_TRUST_PROXY: booleanFlag.default(false),
  INTERIM_RUN_WORKER: booleanFlag.default(true),
  INTERIM_WORKER_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  INTERIM_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(100).max(60000).default(1000),
  INTERIM_DELIVERY_INTERVAL_MS: z.coerce.number().int().min(100).max(60000).default(1000),
  INTERIM_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
  INTERIM_DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  INTERIM_DELIVERY_RETRY_BASE_MS: z.coerce.number().int().min(100).default(30_000),
  INTERIM_DELIVERY_RETRY_MAX_MS: z.coerce.number().int().min(100).default(3_600_000),
  INTERIM_DELIVERY_LEASE_MARGIN_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
  INTERIM_TEMP_ACCESS_TOKEN_TTL_SECS: z.coerce.number().int().min(10).max(3600).default(300),
  INTERIM_SESSION_IDLE_MINS: z.coerce.number().int().min(1).default(60 * 12),
  INTERIM_SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).default(24 * 7),
  INTERIM_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  INTERIM_SSF_MAX_STREAMS_PER_APP: z.coerce.number().int().min(1).max(1000).default(5),
  INTERIM_SLACK_API_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL such as https://slack.com/api')
    .default('https://slack.com/api'),
  INTERIM_EXPIRING_SOON_MINS: z.coerce.number().int().min(1).max(10080).default(15),
  INTERIM_OUTBOUND_ALLOW_PRIVATE: booleanFlag.default(false),
  INTERIM_OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(10000),
  INTERIM_SCRIPT_MEMORY_MB: z.coerce.number().int().min(4).max(512).default(32),
  INTERIM_SCRIPT_TIMEOUT_MS: z.coerce.number().int().min(100).max(300000).default(10000),
  INTERIM_SCRIPT_WORKERS: z.coerce.number().int().min(1).max(16).default(2),
  INTERIM_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be smtp://[user:password@]host:port or smtps://…')
    .optional(),
  INTERIM_SMTP_FROM: z.string().default('Interim <interim@localhost>'),
  INTERIM_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  INTERIM_LOGIN_IP_MAX_FAILURES: z.coerce.number().int().min(1).default(100),
  INTERIM_LOGIN_WINDOW_MINS: z.coerce.number().int().min(1).default(15),
  INTERIM_PASSWORD_SCRYPT_N: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two (default 131072 = 2^17)')
    .default(OWASP_SCRYPT.N),
  INTERIM_PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  INTERIM_KEY_PUBLISH_DELAY_MINS: z.coerce.number().int().min(0).max(10080).default(60),
  INTERIM_KEY_CHECK_SECS: z.coerce.number().int().min(1).max(3600).default(10),
});

export interface Config {
  host: string;
  port: number;
  baseUrl: string;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; timeouts: PostgresTimeouts; poolSize: number };
  /** Server processes `interim serve` runs (one per core by default; 1 = no cluster). */
  processes: number;
  masterKey: Buffer;
  bootstrap: { adminEmail?: string; adminPassword?: string; token?: string };
  logLevel: string;
  trustProxy: boolean;
  runWorker: boolean;
  workerIntervalMs: number;
  /** Schedules of the worker's fast tasks; the others run every workerIntervalMs. */
  worker: { expiryIntervalMs: number; deliveryIntervalMs: number };
  /**
   * The outbox dispatcher: deliveries in flight at once per process, attempts of a
   * notification or event-action delivery, retry backoff (base doubled per attempt,
   * capped), and the margin added to a channel's own time limit to make its lease.
   */
  delivery: { concurrency: number; maxAttempts: number; retryBaseMs: number; retryMaxMs: number; leaseMarginMs: number };
  /** Longest life of an access token that carries a value from a temporary grant. */
  tempAccessTokenTtlSecs: number;
  session: { idleMs: number; absoluteMs: number };
  /** Access requests one user may submit per minute. */
  requestsPerMinute: number;
  /** Lead time of the expiring_soon notice. */
  expiringSoonMs: number;
  /**
   * Outbound HTTP (webhooks, Slack, scripts). Only HTTPS to public addresses, unless
   * allowPrivate, which also permits plain HTTP: for development and tests.
   */
  outbound: { allowPrivate: boolean; timeoutMs: number; maxResponseBytes: number };
  scripts: { memoryMb: number; timeoutMs: number; workers: number };
  /** Unset: no email is sent (deliveries to email dead-letter with a clear error). */
  smtp: { url: string | undefined; from: string };
  loginThrottle: { maxFailures: number; ipMaxFailures: number; windowMs: number };
  /** scrypt cost and how many hashes one process computes at once. */
  passwords: PasswordHashingSettings;
  /** Key rotation: how long a new key is published before it signs, and how often each process checks for new keys. */
  keys: { publishDelayMs: number; checkMs: number };
  /** The Shared Signals transmitter: streams one application (receiver) may have. */
  ssf?: { maxStreamsPerApp: number };
  /** The Slack Web API base (docs/slack.md); tests point it at a loopback fake. */
  slack?: { apiUrl: string };
}

export class ConfigError extends Error {}

/** Environment → typed config. Fails fast with every bad variable named. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // One line per bad variable, so a single mistake reads as a single clear line.
    const lines = parsed.error.issues.map((i) => `invalid configuration: ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(lines.join('\n'));
  }
  const e = parsed.data;
  if ((e.INTERIM_ADMIN_EMAIL === undefined) !== (e.INTERIM_ADMIN_PASSWORD === undefined)) {
    throw new ConfigError('invalid configuration: INTERIM_ADMIN_EMAIL and INTERIM_ADMIN_PASSWORD must be set together');
  }
  const dataDir = path.resolve(e.INTERIM_DATA_DIR);
  const processes = e.INTERIM_PROCESSES ?? availableParallelism();
  const poolSize = e.INTERIM_DB_POOL_SIZE ?? defaultPoolSize(processes);
  const database = e.DATABASE_URL
    ? ({ kind: 'postgres', url: e.DATABASE_URL, timeouts: { connectMs: e.INTERIM_DB_CONNECT_TIMEOUT_MS, statementMs: e.INTERIM_DB_STATEMENT_TIMEOUT_MS }, poolSize } as const)
    : ({ kind: 'sqlite', file: path.join(dataDir, 'interim.db') } as const);
  return {
    host: e.INTERIM_HOST,
    port: e.INTERIM_PORT,
    baseUrl: (e.INTERIM_BASE_URL ?? `http://localhost:${e.INTERIM_PORT}`).replace(/\/+$/, ''),
    dataDir,
    database,
    processes,
    masterKey: e.INTERIM_MASTER_KEY ? Buffer.from(e.INTERIM_MASTER_KEY, 'base64') : localMasterKey(dataDir, database.kind),
    bootstrap: { adminEmail: e.INTERIM_ADMIN_EMAIL, adminPassword: e.INTERIM_ADMIN_PASSWORD, token: e.INTERIM_BOOTSTRAP_TOKEN },
    logLevel: e.INTERIM_LOG_LEVEL,
    trustProxy: e.INTERIM_TRUST_PROXY,
    runWorker: e.INTERIM_RUN_WORKER,
    workerIntervalMs: e.INTERIM_WORKER_INTERVAL_MS,
    worker: { expiryIntervalMs: e.INTERIM_EXPIRY_INTERVAL_MS, deliveryIntervalMs: e.INTERIM_DELIVERY_INTERVAL_MS },
    delivery: {
      concurrency: e.INTERIM_DELIVERY_CONCURRENCY,
      maxAttempts: e.INTERIM_DELIVERY_MAX_ATTEMPTS,
      retryBaseMs: e.INTERIM_DELIVERY_RETRY_BASE_MS,
      retryMaxMs: Math.max(e.INTERIM_DELIVERY_RETRY_MAX_MS, e.INTERIM_DELIVERY_RETRY_BASE_MS),
      leaseMarginMs: e.INTERIM_DELIVERY_LEASE_MARGIN_MS,
    },
    tempAccessTokenTtlSecs: e.INTERIM_TEMP_ACCESS_TOKEN_TTL_SECS,
    session: { idleMs: e.INTERIM_SESSION_IDLE_MINS * 60_000, absoluteMs: e.INTERIM_SESSION_ABSOLUTE_HOURS * 3_600_000 },
    requestsPerMinute: e.INTERIM_REQUESTS_PER_MINUTE,
    expiringSoonMs: e.INTERIM_EXPIRING_SOON_MINS * 60_000,
    outbound: { allowPrivate: e.INTERIM_OUTBOUND_ALLOW_PRIVATE, timeoutMs: e.INTERIM_OUTBOUND_TIMEOUT_MS, maxResponseBytes: 1024 * 1024 },
    scripts: { memoryMb: e.INTERIM_SCRIPT_MEMORY_MB, timeoutMs: e.INTERIM_SCRIPT_TIMEOUT_MS, workers: e.INTERIM_SCRIPT_WORKERS },
    smtp: { url: e.INTERIM_SMTP_URL, from: e.INTERIM_SMTP_FROM },
    loginThrottle: { maxFailures: e.INTERIM_LOGIN_MAX_FAILURES, ipMaxFailures: e.INTERIM_LOGIN_IP_MAX_FAILURES, windowMs: e.INTERIM_LOGIN_WINDOW_MINS * 60_000 },
    passwords: { scryptN: e.INTERIM_PASSWORD_SCRYPT_N, concurrency: e.INTERIM_PASSWORD_HASH_CONCURRENCY ?? DEFAULT_PASSWORD_HASHING.concurrency },
    keys: { publishDelayMs: e.INTERIM_KEY_PUBLISH_DELAY_MINS * 60_000, checkMs: e.INTERIM_KEY_CHECK_SECS * 1000 },
    ssf: { maxStreamsPerApp: e.INTERIM_SSF_MAX_STREAMS_PER_APP },
    slack: { apiUrl: e.INTERIM_SLACK_API_URL },
  };
}

/**
 * PostgreSQL connections per process: 10, fewer when many processes would otherwise pass
 * 80 in all, so that one instance stays under PostgreSQL's default max_connections (100)
 * with room for `interim worker`, the CLI and an operator's psql.
 */
function defaultPoolSize(processes: number): number {
  return Math.max(2, Math.min(10, Math.floor(80 / processes)));
}

/**
 * On the embedded default the master key lives beside the database, created on first
 * start (mode 0600). Several instances on PostgreSQL must share one key, so there it
 * has to be given.
 */
function localMasterKey(dataDir: string, kind: 'sqlite' | 'postgres'): Buffer {
  if (kind === 'postgres') {
    throw new ConfigError('invalid configuration: INTERIM_MASTER_KEY: required with DATABASE_URL (openssl rand -base64 32)');
  }
  const file = path.join(dataDir, 'master.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
