import type { Kysely } from 'kysely';

/**
 * Key rotation and the resource-server registry (issue 8, section 8).
 *
 * signing_keys.signs_from: the instant a key starts signing. A rotated-in key is
 * published in the JWKS first and signs only from then on; keys made before rotation
 * existed sign from 0. `retired_at` becomes the instant a key leaves the JWKS (it was
 * always null before), so it can be scheduled ahead.
 *
 * resource_servers: the APIs a client may ask tokens for (RFC 8707 resource indicators),
 * with the scopes they accept; resource_server_apps: which applications may ask.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against the schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signing_keys').addColumn('signs_from', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('resource_servers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('audience', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('resource_server_apps')
    .addColumn('resource_server_id', 'text', (c) => c.notNull().references('resource_servers.id').onDelete('cascade'))
    .addColumn('app_id', 'text', (c) => c.notNull().references('applications.id'))
    .addPrimaryKeyConstraint('resource_server_apps_pk', ['resource_server_id', 'app_id'])
    .execute();
  await db.schema.createIndex('resource_server_apps_app').on('resource_server_apps').column('app_id').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('resource_server_apps').execute();
  await db.schema.dropTable('resource_servers').execute();
  await db.schema.alterTable('signing_keys').dropColumn('signs_from').execute();
}
