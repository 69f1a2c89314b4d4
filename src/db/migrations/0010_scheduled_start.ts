import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
/**
 * Scheduled start (issue 12 §3). A template says how far ahead a start may be; a request
 * carries the start it asked for; a grant's window opens at `starts_at` (null: at
 * approval), and `activated_at` records when the `activated` event went out. The grant's
 * membership carries the same start, so the claims query sees the whole window.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('access_request_templates').addColumn('max_start_delay_mins', 'integer').execute();
  await db.schema.alterTable('access_requests').addColumn('starts_at', 'bigint').execute();
  await db.schema.alterTable('access_requests').addColumn('activated_at', 'bigint').execute();
  await db.schema.alterTable('memberships').addColumn('starts_at', 'bigint').execute();
  // Every grant approved before this migration opened at its approval.
  await db.updateTable('access_requests').set({ activated_at: sql.ref('approved_at') }).where('approved_at', 'is not', null).execute();
  // The activation task's claim: approved grants with a start whose window has not been
  // announced yet. Requests never activated (denied, cancelled) stay out of the approved range.
  await db.schema
    .createIndex('access_requests_activation')
    .on('access_requests')
    .columns(['status', 'starts_at'])
    .where(sql<boolean>`activated_at is null and starts_at is not null`)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
