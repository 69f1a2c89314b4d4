import { sql } from 'kysely';
import type { DialectName, Tx } from './database.ts';

/*
 * Row locks on PostgreSQL are FOR NO KEY UPDATE, never FOR UPDATE: we never change a key,
 * and FOR UPDATE also blocks the FOR KEY SHARE lock that every insert takes on the rows its
 * foreign keys point at. Two transactions that each locked one user and then wrote a
 * notification for the other deadlocked that way; NO KEY UPDATE still serialises lockers.
 */

/**
 * Takes a row lock inside a transaction (SELECT … FOR NO KEY UPDATE on PostgreSQL). On
 * SQLite every write transaction already holds the database lock (BEGIN IMMEDIATE).
 */
export async function lockRow(trx: Tx, dialect: DialectName, table: string, column: string, value: string | number): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select 1 from ${sql.table(table)} where ${sql.ref(column)} = ${value} for no key update`.execute(trx);
}

/** True when the error is a unique-constraint violation in either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * Claims the selected rows for this transaction's work. On PostgreSQL rows another
 * transaction holds are skipped (FOR NO KEY UPDATE SKIP LOCKED), so several workers, or a
 * worker and a person revoking, never wait on each other; SQLite already serializes writers.
 */
export function claimRows<QB extends { forNoKeyUpdate(): { skipLocked(): QB } }>(query: QB, dialect: DialectName): QB {
  return dialect === 'postgres' ? query.forNoKeyUpdate().skipLocked() : query;
}

/** Locks the selected rows for this transaction, waiting for other holders (PostgreSQL). */
export function lockSelected<QB extends { forNoKeyUpdate(): QB }>(query: QB, dialect: DialectName): QB {
  return dialect === 'postgres' ? query.forNoKeyUpdate() : query;
}

/**
 * claimRows for a query that joins other tables: on PostgreSQL only the rows of `alias`
 * are locked (FOR NO KEY UPDATE OF … SKIP LOCKED). Without OF the joined rows would be
 * locked too (templates, say), so a worker's claim would block an admin editing them, and
 * a row whose joined row is being edited would be skipped.
 */
export function claimRowsOf<A extends string, QB extends { forNoKeyUpdate(of: A): { skipLocked(): QB } }>(query: QB, dialect: DialectName, alias: A): QB {
  return dialect === 'postgres' ? query.forNoKeyUpdate(alias).skipLocked() : query;
}
