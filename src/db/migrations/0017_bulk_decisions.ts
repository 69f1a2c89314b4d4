import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Issue 14 §4: a template may let approvers decide several of its requests at once from the
  // inbox. Off by default: deciding in bulk is a choice the template's owner makes, not a given.
  await db.schema.alterTable('access_request_templates').addColumn('allow_bulk_decisions', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
