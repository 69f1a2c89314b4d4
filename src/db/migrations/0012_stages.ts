import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Stage 1 of every template stays in the flat columns and approver links (the brief's
  // one-stage form); its quorum is the new column. Stages 2..n have rows of their own.
  await db.schema.alterTable('access_request_templates').addColumn('quorum', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema
    .createTable('template_stages')
    .addColumn('template_id', 'text', (c) => c.notNull().references('access_request_templates.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('quorum', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('escalation_after_mins', 'integer')
    .addColumn('escalation_group_id', 'text', (c) => c.references('groups.id'))
    .addPrimaryKeyConstraint('template_stages_pk', ['template_id', 'position'])
    .execute();
  // No cascade from groups: a group a stage names cannot be deleted (as template_groups).
  await db.schema
    .createTable('template_stage_groups')
    .addColumn('template_id', 'text', (c) => c.notNull().references('access_request_templates.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id'))
    .addPrimaryKeyConstraint('template_stage_groups_pk', ['template_id', 'position', 'group_id'])
    .execute();
  await db.schema.createIndex('template_stage_groups_group').on('template_stage_groups').columns(['group_id', 'template_id']).execute();

  // The stage a pending request waits in, and when that stage (2..n) escalates; stage 1
  // escalates from the template's flat columns as before.
  await db.schema.alterTable('access_requests').addColumn('current_stage', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('access_requests').addColumn('stage_escalate_at', 'bigint').execute();
  await db.schema
    .createIndex('access_requests_stage_escalate_at')
    .on('access_requests')
    .column('stage_escalate_at')
    .where(sql.ref('stage_escalate_at'), 'is not', null)
    .execute();

  // One row per approval. One person counts once per request, in one stage only.
  await db.schema
    .createTable('access_request_votes')
    .addColumn('request_id', 'text', (c) => c.notNull().references('access_requests.id').onDelete('cascade'))
    .addColumn('approver_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('stage', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_request_votes_pk', ['request_id', 'approver_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
