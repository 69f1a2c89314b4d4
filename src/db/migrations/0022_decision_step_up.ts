import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Issue 15 §1: a template may ask its approvers (and its break-glass users) to confirm each
  // decision with a fresh second factor, checked within this many minutes. Null: off.
  await db.schema.alterTable('access_request_templates').addColumn('step_up_minutes', 'integer').execute();
  // One-time links that send an approver from Slack or the terminal to the decision page
  // (DESIGN "Assurance"): stored hashed, bound to (user, request, decision, stage), 10 minutes.
  await db.schema
    .createTable('decision_links')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('request_id', 'text', (c) => c.notNull().references('access_requests.id').onDelete('cascade'))
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('stage', 'integer')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('decision_links_expires_at').on('decision_links').column('expires_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
