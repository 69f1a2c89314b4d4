import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // OpenID Connect Back-Channel Logout 1.0 (issue 13 §1): where an application hears that a
  // session ended, and whether it needs `sid` in every logout token. Our outbox sends them.
  await db.schema.alterTable('applications').addColumn('backchannel_logout_uri', 'text').execute();
  await db.schema.alterTable('applications').addColumn('backchannel_logout_session_required', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
