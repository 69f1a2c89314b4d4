import type { Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
/**
 * Issue 15 §1, enrolment and sign-in with second factors (src/db/schema/mfa.ts and
 * identity.ts say what each column holds): how a session was signed in, the short-lived
 * challenges and pending steps of enrolment and sign-in, and who must enrol before anything else.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('amr', 'text').execute();
  await db.schema
    .createTable('mfa_pending')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('challenge', 'text')
    .addColumn('secret', 'text')
    .addColumn('data', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mfa_pending_expires').on('mfa_pending').column('expires_at').execute();
  await db.schema
    .createTable('mfa_enrolment_due')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('since', 'bigint', (c) => c.notNull())
    .execute();
  // The policy's row exists from the start, so readers can share-lock it against a change
  // (a row created by the change itself would be invisible to them, and so unlocked). updated_at 0: never set.
  await db.insertInto('settings').values({ key: 'mfa_policy', value: JSON.stringify('off'), updated_at: 0 }).onConflict((oc) => oc.column('key').doNothing()).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
