import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type DatabaseConnection, type Driver, type SqliteDatabase, type Transaction } from 'kysely';
import type { DB } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Repos take either: a plain query runs on its own, a Tx joins the caller's transaction. */
export type Executor = Kysely<DB>;

export interface Database {
  db: Db;
  dialect: DialectName;
  close(): Promise<void>;
}

/** How long PostgreSQL may take before a request gives up with 503 (INTERIM_DB_*_TIMEOUT_MS). */
export interface PostgresTimeouts {
  /** Opening a connection, or waiting for a free one in the pool. */
  connectMs: number;
  /** Server-side statement_timeout; the client gives up a little later if the server goes silent. 0 = none. */
  statementMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = { connectMs: 5000, statementMs: 10_000 };

export type DatabaseTarget =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string; poolSize?: number; timeouts?: PostgresTimeouts };

export function openDatabase(target: DatabaseTarget): Database {
  const db = target.kind === 'sqlite' ? openSqlite(target.file) : openPostgres(target.url, target.poolSize ?? 10, target.timeouts ?? DEFAULT_POSTGRES_TIMEOUTS);
  return { db, dialect: target.kind, close: () => db.destroy() };
}

function openSqlite(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  let opened: SQLite.Database | undefined;
  const dialect = new SqliteDialect({
    database: async () => {
      const sqlite = new SQLite(file);
      // Opening may meet another process mid-write: wait for it here, once, synchronously.
      sqlite.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
      // From now on a statement that finds the database locked fails at once and is retried
      // asynchronously (retryWhenBusy): SQLite's own busy wait sleeps on the event loop.
      sqlite.pragma('busy_timeout = 0');
      opened = sqlite;
      return withStatementCache(sqlite);
    },
  });
  // A server and a separate `interim worker`, or the processes of one `interim serve`, share
  // the file. A deferred transaction that later needs the write lock can fail with
  // SQLITE_BUSY at once; BEGIN IMMEDIATE takes the lock up front, where a refusal can be retried.
  const createDriver = dialect.createDriver.bind(dialect);
  dialect.createDriver = () => retryWhenBusy(immediateTransactions(createDriver()), () => opened?.inTransaction ?? false);
  return new Kysely<DB>({ dialect });
}

/** Longest synchronous busy wait, only while a connection opens (pragmas). */
const OPEN_BUSY_TIMEOUT_MS = 5000;
/** How long a statement keeps retrying while another process holds the write lock (the busy_timeout it replaces). */
export const SQLITE_BUSY_RETRY_MS = 5000;

/**
 * SQLite allows one writer at a time, across processes. Its busy handler waits by
 * sleeping the thread (1, 2, 5, 10 … ms), which for Node is the whole event loop: with
 * several server processes, every collision on the write lock froze a process that had
 * other requests to serve. Here busy_timeout is 0 and a statement refused with
 * SQLITE_BUSY is run again after an asynchronous pause (first on the next turn of the
 * event loop, then backing off to a few milliseconds) until SQLITE_BUSY_RETRY_MS have
 * passed, when the error goes to the caller as before.
 *
 * Only a statement issued outside a transaction is retried: BEGIN IMMEDIATE (where every
 * transaction takes the write lock) and single autocommit statements. Such a statement
 * that failed with SQLITE_BUSY never ran, so running it again is exact. Inside a
 * transaction that holds the write lock (WAL mode) no statement waits for another
 * connection, and one that failed is never repeated: the transaction fails as a whole.
 */
function retryWhenBusy(driver: Driver, inTransaction: () => boolean): Driver {
  const wrapped = new WeakSet<DatabaseConnection>();
  const acquire = driver.acquireConnection.bind(driver);
  driver.acquireConnection = async () => {
    const connection = await acquire();
    if (wrapped.has(connection)) return connection;
    wrapped.add(connection);
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = (async (query: CompiledQuery) => {
      if (inTransaction()) return execute(query);
      const deadline = performance.now() + SQLITE_BUSY_RETRY_MS;
      for (let attempt = 0; ; attempt++) {
        try {
          return await execute(query);
        } catch (error) {
          if (!isBusy(error) || performance.now() >= deadline) throw error;
          await busyPause(attempt);
        }
      }
    }) as DatabaseConnection['executeQuery'];
    return connection;
  };
  return driver;
}

function isBusy(error: unknown): boolean {
  return error instanceof SQLite.SqliteError && (error.code === 'SQLITE_BUSY' || error.code.startsWith('SQLITE_BUSY_'));
}

/** The next turn of the event loop twice (a write lock is usually held for well under a millisecond), then 1, 2, 4 … 8 ms. */
function busyPause(attempt: number): Promise<void> {
  if (attempt < 2) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, Math.min(8, 2 ** (attempt - 2))));
}

/** Statements kept prepared; the application has far fewer distinct queries than this. */
const STATEMENT_CACHE_SIZE = 256;
/** Longer SQL is mostly one-off (bulk inserts, long IN lists) and would only push hot statements out. */
const MAX_CACHED_SQL_LENGTH = 8192;

/**
 * Kysely's SQLite driver calls prepare(sql) on every execution, and compiling the same
 * SQL again and again held the token endpoint back: with this cache, refresh grants/s
 * rose by about 40% (bench/README.md). This keeps the most recently used
 * statements prepared (a bounded LRU keyed by the SQL text). It hands out better-sqlite3's
 * own Statement, so `reader` (rows or not) and all/run/iterate behave exactly as before;
 * SQLite re-prepares a cached statement by itself after a schema change. A statement
 * that is still being iterated (a streamed query) is busy and cannot run again, so a
 * second caller then gets a fresh, uncached one.
 */
export function withStatementCache(sqlite: SQLite.Database, capacity = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) {
        cache.delete(sql); // re-insert: Map order is the recency order
        cache.set(sql, cached);
        return cached;
      }
      const statement = sqlite.prepare(sql);
      if (!cached && sql.length <= MAX_CACHED_SQL_LENGTH) {
        cache.set(sql, statement);
        if (cache.size > capacity) cache.delete(cache.keys().next().value!);
      }
      return statement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

function immediateTransactions(driver: Driver): Driver {
  driver.beginTransaction = async (connection: DatabaseConnection) => {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  };
  return driver;
}

/** Time the client waits beyond statement_timeout before deciding the server has gone silent. */
const SILENT_SERVER_GRACE_MS = 2000;

/**
 * A PostgreSQL outage (restart, stop, failover, a network that drops packets) must leave
 * the process running and every request answered quickly:
 * - every client has an 'error' listener for its whole life, not only while idle in the
 *   pool: a checked-out client whose connection dies emits 'error' too, and an unheard
 *   'error' event ends the process;
 * - connecting, waiting for a pooled connection and each statement have time limits, so
 *   a server that stops answering without refusing gives an error, not a hang;
 * - a client that comes back with a query still unanswered (the client-side read timeout
 *   fired) or inside a transaction is destroyed instead of pooled: its connection may
 *   still deliver that old answer, or hold that old transaction open.
 * The pool opens new connections on demand, so service resumes with the first request
 * after the server accepts connections again.
 */
function openPostgres(url: string, max: number, timeouts: PostgresTimeouts): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: timeouts.connectMs,
    ...(timeouts.statementMs > 0 ? { statement_timeout: timeouts.statementMs, query_timeout: timeouts.statementMs + SILENT_SERVER_GRACE_MS } : {}),
    keepAlive: true,
    // int8 columns hold epoch milliseconds, which fit exactly in a JS number.
    types: { getTypeParser: (oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) },
  });
  // Idle clients: the pool removes one whose connection the server dropped.
  pool.on('error', () => {});
  // Checked-out clients: the query in flight fails (and is answered 503); the event itself needs no action.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    closeOnReadTimeout(client);
  });
  const kyselyPool = {
    async connect() {
      const client = await pool.connect();
      const release = client.release;
      client.release = (destroy?: boolean | Error) => release(destroy || !reusable(client));
      return client;
    },
    end: () => pool.end(),
    options: pool.options,
  };
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: kyselyPool }) });
}

/**
 * pg's query_timeout fails the query but keeps the connection, and the silent server may
 * still run that statement later. Nothing more may go over it: the ROLLBACK that follows
 * would otherwise wait a whole timeout behind the lost query. Closing the socket fails
 * whatever is queued at once, and the server rolls back when it notices.
 */
function closeOnReadTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const socket = () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream; // pg keeps no public handle on it
  (client as unknown as { query: typeof query }).query = (...args) => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') socket()?.destroy();
      });
    }
    return result;
  };
}

/** Ready for the next query (nothing in flight) and outside any transaction. */
function reusable(client: pg.PoolClient): boolean {
  const state = client as pg.PoolClient & { readyForQuery?: boolean; getTransactionStatus?: () => string | null };
  return state.readyForQuery !== false && (state.getTransactionStatus?.() ?? 'I') === 'I';
}
