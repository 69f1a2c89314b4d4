import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
/**
 * Usage facts for insights (issue 14 §6): per grant, the first and the last token issued
 * for its application to its requester after activation. One row per grant, keyed by the
 * grant group the claims query already reads (src/modules/claims/usage.repo.ts), so the
 * token path finds it with a primary-key join on the statement it already runs; the row
 * outlives the group (no foreign key), because the group is deleted when the grant ends.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('grant_usage')
    .addColumn('group_id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().unique())
    .addColumn('first_used_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .execute();
  // Grants approved before this migration: their usage starts being recorded now.
  await db
    .insertInto('grant_usage')
    .columns(['group_id', 'request_id'])
    .expression(db.selectFrom('access_requests').select(['grant_group_id', 'id']).where('grant_group_id', 'is not', null))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
