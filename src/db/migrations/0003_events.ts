import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Lifecycle events, written in the transaction of the change that caused them.
  await db.schema
    .createTable('outbox_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('template_id', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('outbox_events_request').on('outbox_events').columns(['request_id', 'id']).execute();

  // One row per (event, target): what the dispatcher sends after commit, at least once.
  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().references('outbox_events.id'))
    .addColumn('request_id', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('action_id', 'text')
    .addColumn('ordering_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .execute();
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('deliveries_ordering').on('deliveries').columns(['ordering_key', 'id']).execute();
  await db.schema.createIndex('deliveries_request').on('deliveries').columns(['request_id', 'id']).execute();
  await db.schema.createIndex('deliveries_action').on('deliveries').columns(['action_id', 'id']).execute();
  await db.schema.createIndex('deliveries_event').on('deliveries').columns(['event_id']).execute();

  await db.schema
    .createTable('delivery_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('delivery_attempts_delivery').on('delivery_attempts').columns(['delivery_id', 'id']).execute();

  // In-app notifications.
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_user').on('notifications').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('notifications_event_user').on('notifications').columns(['event_id', 'user_id']).unique().execute();

  // Where round_robin stands, per template and pool of approvers.
  await db.schema
    .createTable('round_robin_positions')
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('pool', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('round_robin_positions_pk', ['template_id', 'pool'])
    .execute();

  // Trigger tasks and event-action scripts.
  await db.schema
    .createTable('scripts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('allowed_hosts', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();

  await db.schema
    .createTable('script_secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('value_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // Secrets are granted per script.
  await db.schema
    .createTable('script_secret_grants')
    .addColumn('script_id', 'text', (c) => c.notNull().references('scripts.id').onDelete('cascade'))
    .addColumn('secret_id', 'text', (c) => c.notNull().references('script_secrets.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('script_secret_grants_pk', ['script_id', 'secret_id'])
    .execute();

  await db.schema
    .createTable('script_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('script_id', 'text', (c) => c.notNull().references('scripts.id'))
    .addColumn('event_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('trigger_event', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('logs', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('script_runs_script').on('script_runs').columns(['script_id', 'id']).execute();
  await db.schema.createIndex('script_runs_request').on('script_runs').columns(['request_id', 'id']).execute();

  await db.schema
    .createTable('event_actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('secret_encrypted', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();

  // expiring_soon is sent once per grant.
  await db.schema.alterTable('access_requests').addColumn('expiring_notice_at', 'bigint').execute();
  await db.schema.alterTable('access_requests').addColumn('provisioning_error', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
