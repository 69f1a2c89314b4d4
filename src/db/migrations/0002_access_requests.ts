import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('access_request_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('app_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('allowed_durations', 'text', (c) => c.notNull())
    .addColumn('require_justification', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('auto_approve', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('notification_policy', 'text', (c) => c.notNull().defaultTo('all'))
    .addColumn('notification_count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('escalation_after_mins', 'integer')
    .addColumn('escalation_group_id', 'text', (c) => c.references('groups.id'))
    .addColumn('custom_fields', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('trigger_script_id', 'text')
    .addColumn('trigger_failure_mode', 'text', (c) => c.notNull().defaultTo('ignore'))
    .addColumn('trigger_max_retries', 'integer', (c) => c.notNull().defaultTo(3))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();

  // Approver and requester groups. No cascade: a referenced group cannot be deleted.
  await db.schema
    .createTable('template_groups')
    .addColumn('template_id', 'text', (c) => c.notNull().references('access_request_templates.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('template_groups_pk', ['template_id', 'role', 'group_id'])
    .execute();
  await db.schema.createIndex('template_groups_group').on('template_groups').columns(['group_id', 'template_id']).execute();

  await db.schema
    .createTable('template_mappings')
    .addColumn('template_id', 'text', (c) => c.notNull().references('access_request_templates.id').onDelete('cascade'))
    .addColumn('mapping_id', 'text', (c) => c.notNull().references('mappings.id'))
    .addPrimaryKeyConstraint('template_mappings_pk', ['template_id', 'mapping_id'])
    .execute();
  await db.schema.createIndex('template_mappings_mapping').on('template_mappings').columns(['mapping_id', 'template_id']).execute();

  await db.schema
    .createTable('access_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('template_id', 'text', (c) => c.notNull().references('access_request_templates.id'))
    .addColumn('template_version', 'integer', (c) => c.notNull())
    .addColumn('requester_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('duration_mins', 'integer', (c) => c.notNull())
    .addColumn('justification', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('fields', 'text', (c) => c.notNull().defaultTo('{}'))
    // What approval grants, frozen at submission: app, mappings and their values.
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('notified_approver_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('escalated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('escalated_at', 'bigint')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('decision_comment', 'text')
    .addColumn('provisioning_deadline', 'bigint')
    .addColumn('approved_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .addColumn('grant_group_id', 'text')
    .addColumn('ended_at', 'bigint')
    .addColumn('end_reason', 'text')
    .addColumn('ended_by', 'text')
    .addColumn('revoke_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // One open request per (template, requester): the database decides races (DESIGN rule 5).
  await db.schema
    .createIndex('access_requests_one_open')
    .on('access_requests')
    .columns(['template_id', 'requester_id'])
    .unique()
    .where(sql.ref('status'), 'in', sql`('pending', 'provisioning')`)
    .execute();
  await db.schema.createIndex('access_requests_requester').on('access_requests').columns(['requester_id', 'id']).execute();
  await db.schema.createIndex('access_requests_status').on('access_requests').columns(['status', 'expires_at']).execute();
  await db.schema.createIndex('access_requests_template').on('access_requests').columns(['template_id', 'status']).execute();

  await db.schema
    .createTable('access_request_comments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull().references('access_requests.id').onDelete('cascade'))
    .addColumn('author_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_request_comments_request').on('access_request_comments').columns(['request_id', 'id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
