import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // oidc_payloads.uid (sessions and interactions) and user_code (device flow, which is
  // off) are NULL for every token, so indexing them only makes each refresh-token insert
  // write two more B-trees. Partial indexes keep the lookups (`uid = ?` implies NOT NULL
  // on both dialects) and leave token rows out.
  await db.schema.dropIndex('oidc_payloads_uid').execute();
  await db.schema.dropIndex('oidc_payloads_user_code').execute();
  await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').column('uid').where(sql.ref('uid'), 'is not', null).execute();
  await db.schema.createIndex('oidc_payloads_user_code').on('oidc_payloads').column('user_code').where(sql.ref('user_code'), 'is not', null).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
