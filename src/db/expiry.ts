import { sql, type RawBuilder } from 'kysely';

/**
 * The one expiry rule (DESIGN rule 1): a row counts while its `expires_at` is null or
 * later than `at`. Claims, approver eligibility, notifications and listings all use it,
 * so a membership or grant ends at the same instant everywhere.
 */
export function unexpired(column: string, at: number): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(column)} is null or ${sql.ref(column)} > ${at})`;
}

/** The start rule beside it: a row with a `starts_at` (a scheduled grant's membership) counts only from then. */
export function started(column: string, at: number): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(column)} is null or ${sql.ref(column)} <= ${at})`;
}
