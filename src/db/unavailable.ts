/**
 * Tells a database that is away (stopped, restarting, unreachable, not answering in
 * time, locked for too long) from a query that is wrong. The first is worth a retry and
 * is answered 503; the second is a bug and stays a 500. The driver-specific knowledge
 * (pg and better-sqlite3 error shapes) lives here, so the HTTP and OIDC layers ask one
 * question.
 */

/** PostgreSQL SQLSTATE classes and codes that mean "the server is not there for you now". */
const PG_UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: pg_ctl stop / restart -m fast
  '57P02', // crash_shutdown: another backend crashed, or -m immediate
  '57P03', // cannot_connect_now: the server is starting up or shutting down
  '57014', // query_canceled: statement_timeout
  '53300', // too_many_connections
  '55P03', // lock_not_available: lock_timeout
]);

/** Socket errors from node:net while connecting or talking to the server. */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** pg and pg-pool report a lost or slow connection with plain Errors; these are their messages. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated', // "…unexpectedly", "…due to connection timeout"
  'Query read timeout', // query_timeout: the server stopped answering
  'timeout exceeded when trying to connect', // pg-pool: no connection within connectionTimeoutMillis
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/** better-sqlite3 codes (extended codes start with the primary one, e.g. SQLITE_IOERR_WRITE). */
const SQLITE_UNAVAILABLE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY'];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (PG_UNAVAILABLE_STATES.has(code) || code.startsWith('08') || NET_CODES.has(code)) return true;
      if (SQLITE_UNAVAILABLE_PREFIXES.some((prefix) => code.startsWith(prefix))) return true;
    }
    if (PG_CONNECTION_MESSAGES.some((m) => e instanceof Error && e.message.startsWith(m))) return true;
    // An AggregateError (Happy Eyeballs: every address refused) carries the socket errors inside.
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}
