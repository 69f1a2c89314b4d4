import type { Kysely } from 'kysely';

/** The built-in resource server for SSF stream management (DESIGN "Signals"): fixed id and audience, undeletable. */
const SSF_RESOURCE_SERVER = { id: '01930000-0000-7000-8000-00000000055f', audience: 'urn:interim:ssf' };

/**
 * The Shared Signals transmitter (issue 13 §2, src/modules/ssf):
 * - ssf_streams: one receiver's stream (an application's), its delivery and status; the
 *   push authorization header is sealed with the master key;
 * - ssf_subjects: the users a stream asked about (add subject), kept only when the user has
 *   a grant, consent or mapping for the stream's application;
 * - ssf_held: events recorded while a push stream was paused, released in order on resume;
 * - ssf_poll_queue: the SETs (unsigned claims) a poll stream serves until acknowledged.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are written against the schema of their time
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ssf_streams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('delivery_method', 'text', (c) => c.notNull())
    .addColumn('endpoint_url', 'text')
    .addColumn('authorization_header_encrypted', 'text')
    .addColumn('events_requested', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssf_streams_app').on('ssf_streams').column('app_id').execute();
  await db.schema
    .createTable('ssf_subjects')
    .addColumn('stream_id', 'text', (c) => c.notNull().references('ssf_streams.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ssf_subjects_pk', ['stream_id', 'user_id'])
    .execute();
  await db.schema.createIndex('ssf_subjects_user').on('ssf_subjects').columns(['user_id', 'stream_id']).execute();
  await db.schema
    .createTable('ssf_held')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull().references('ssf_streams.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssf_held_stream').on('ssf_held').columns(['stream_id', 'id']).execute();
  await db.schema
    .createTable('ssf_poll_queue')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('stream_id', 'text', (c) => c.notNull().references('ssf_streams.id').onDelete('cascade'))
    .addColumn('claims', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssf_poll_queue_stream').on('ssf_poll_queue').columns(['stream_id', 'position']).execute();

  // Built in: its instants are the epoch (a migration has no injected clock, and the row is as old as the schema).
  const now = 0;
  await db
    .insertInto('resource_servers')
    .values({ ...SSF_RESOURCE_SERVER, name: 'SSF stream management', description: 'Built in: receivers of Shared Signals (SSF/CAEP/RISC) manage their streams with scope ssf.manage, read them with ssf.read', scopes: JSON.stringify(['ssf.manage', 'ssf.read']), created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('audience').doNothing())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('resource_server_apps').where('resource_server_id', '=', SSF_RESOURCE_SERVER.id).execute();
  await db.deleteFrom('resource_servers').where('id', '=', SSF_RESOURCE_SERVER.id).execute();
  for (const table of ['ssf_poll_queue', 'ssf_held', 'ssf_subjects', 'ssf_streams']) await db.schema.dropTable(table).execute();
}
