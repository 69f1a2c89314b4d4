import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // The window whose failed sign-ins were already audited for this key: one audit
  // event per key per window, so a burst of failures does not queue on the audit chain.
  await db.schema.alterTable('login_throttle').addColumn('failure_audited_window', 'bigint').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
