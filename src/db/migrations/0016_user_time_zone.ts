import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // The zone the portal shows a user's times in (an IANA name such as "Europe/Paris"); null
  // follows the browser's. The server checks the name with Intl when the user sets it.
  await db.schema.alterTable('users').addColumn('time_zone', 'text').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
