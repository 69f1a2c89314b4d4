import { sql } from 'kysely';

/**
 * A thing's id and name, for the audit log's names and links and its text search. Owners
 * export a query of these rows (deleted things included: the audit keeps naming them);
 * `deleted_at` is null for the living, and for tables that delete rows outright.
 */
export interface NamedRow {
  id: string;
  name: string;
  deleted_at: number | null;
}

/** The `deleted_at` of a table that deletes its rows outright: always null (cast, so PostgreSQL knows its type). */
export const neverDeleted = () => sql<number | null>`cast(null as bigint)`.as('deleted_at');
