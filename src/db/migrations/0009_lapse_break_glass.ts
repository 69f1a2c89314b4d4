import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Issue 12 §4: a pending request nobody decided within pending_ttl_mins ends as `lapsed`.
  // Issue 12 §5: a break-glass template lets its requesters grant themselves access at once,
  // for at most break_glass_max_mins, reviewed afterwards within break_glass_review_mins.
  await db.schema.alterTable('access_request_templates').addColumn('pending_ttl_mins', 'integer').execute();
  await db.schema.alterTable('access_request_templates').addColumn('break_glass', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('access_request_templates').addColumn('break_glass_max_mins', 'integer').execute();
  await db.schema.alterTable('access_request_templates').addColumn('break_glass_review_mins', 'integer').execute();

  // The lapse task looks for pending requests by age.
  await db.schema
    .createIndex('access_requests_pending_age')
    .on('access_requests')
    .columns(['created_at', 'id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute();

  // One row per break-glass activation: its after-the-fact review. The request row holds the
  // grant itself (status, expiry); this holds what only break-glass has.
  await db.schema
    .createTable('break_glass_grants')
    .addColumn('request_id', 'text', (c) => c.primaryKey().references('access_requests.id'))
    .addColumn('requester_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('template_id', 'text', (c) => c.notNull().references('access_request_templates.id'))
    .addColumn('activated_at', 'bigint', (c) => c.notNull())
    .addColumn('review_due_at', 'bigint', (c) => c.notNull())
    .addColumn('review_state', 'text', (c) => c.notNull().defaultTo('unreviewed'))
    .addColumn('reviewed_by', 'text')
    .addColumn('reviewed_at', 'bigint')
    .addColumn('review_comment', 'text')
    .addColumn('overdue_alerted_at', 'bigint')
    .execute();
  await db.schema.createIndex('break_glass_grants_requester').on('break_glass_grants').columns(['requester_id', 'activated_at']).execute();
  await db.schema
    .createIndex('break_glass_grants_unreviewed')
    .on('break_glass_grants')
    .columns(['review_due_at', 'request_id'])
    .where(sql.ref('review_state'), '=', sql.lit('unreviewed'))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
