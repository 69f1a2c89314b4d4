import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Which blocking-trigger run owns the provisioning state: a run that returns after its
  // attempt timed out and another began must not grant, nor undo the other's work.
  await db.schema.alterTable('access_requests').addColumn('provisioning_attempt', 'text').execute();

  // The worker looks for provisioning attempts past their deadline, and for requests
  // retired while their blocking trigger task ran whose compensating event is still
  // owed; both keep provisioning_deadline set, every other request has it null.
  await db.schema
    .createIndex('access_requests_provisioning_deadline')
    .on('access_requests')
    .column('provisioning_deadline')
    .where(sql.ref('provisioning_deadline'), 'is not', null)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
