import type { SelectQueryBuilder } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { NamedRow } from '../../db/names.ts';
import type { DB } from '../../db/schema.ts';

/** Every user, deleted ones included, with their deletion time (the users module's query). */
export type PeopleQuery = (db: Executor) => SelectQueryBuilder<DB, keyof DB, { id: string; email: string; name: string; deleted_at: number | null }>;
/** Every thing of one target type with its name (its owner's query). */
export type NamesQuery = (db: Executor) => SelectQueryBuilder<DB, keyof DB, NamedRow>;

/**
 * How the audit log names the people and things its events point at. The audit module sits
 * below every other module, so the composition root hands it the owners' queries: each stays
 * one statement per page (a subquery the audit joins) while only its owner names the table.
 */
export interface AuditDirectory {
  people: PeopleQuery;
  /** By target type (`user` is named from `people`); a type missing here is shown by its id. */
  names: Readonly<Record<string, NamesQuery>>;
}

/** Who did it, as the API shows them; null for the system. */
export interface AuditActorOut {
  id: string;
  email: string;
  name: string;
  deleted: boolean;
}

/** What it was done to, named; null when the event has no target id. */
export interface AuditTargetOut {
  type: string;
  id: string;
  name: string;
  deleted: boolean;
}
