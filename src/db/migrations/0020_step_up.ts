import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
/**
 * Step-up proofs (issue 15, DESIGN "Assurance"): one row per fresh second-factor check,
 * bound to (user, action, target, stage, nonce). Verified once, spent once, by the
 * transaction that commits the act it was made for.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('step_up_proofs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('stage', 'integer')
    .addColumn('binding_hash', 'text', (c) => c.notNull())
    .addColumn('challenge', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verified_at', 'bigint')
    .addColumn('method', 'text')
    .addColumn('factor_id', 'text')
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('step_up_proofs_created').on('step_up_proofs').column('created_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
