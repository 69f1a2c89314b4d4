import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not follow later table types */
export async function up(db: Kysely<any>): Promise<void> {
  // Extension of an active grant (issue 12 §2): the template says whether, with or without
  // approval, and for how long a grant may last in total (counted from its start).
  await db.schema.alterTable('access_request_templates').addColumn('allow_extension', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('access_request_templates').addColumn('extension_requires_approval', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('access_request_templates').addColumn('max_total_mins', 'integer').execute();

  // An extension is its own request row (kind 'extension') pointing at the grant it extends.
  await db.schema.alterTable('access_requests').addColumn('kind', 'text', (c) => c.notNull().defaultTo('request')).execute();
  await db.schema.alterTable('access_requests').addColumn('parent_id', 'text', (c) => c.references('access_requests.id')).execute();
  await db.schema.createIndex('access_requests_parent').on('access_requests').column('parent_id').where(sql.ref('parent_id'), 'is not', null).execute();

  // At most one active grant per (template, requester): two grants of one template for one
  // person never overlap, so the expiry of one never cuts access the other still gives.
  // Grants that overlap from before this rule keep only the one that lasts longest.
  await sql`
    update access_requests set status = 'expired', end_reason = 'automatic', ended_at = updated_at
    where status = 'approved' and exists (
      select 1 from access_requests o
      where o.template_id = access_requests.template_id and o.requester_id = access_requests.requester_id and o.status = 'approved'
        and (o.expires_at > access_requests.expires_at or (o.expires_at = access_requests.expires_at and o.id > access_requests.id))
    )`.execute(db);
  await db.schema
    .createIndex('access_requests_one_active')
    .on('access_requests')
    .columns(['template_id', 'requester_id'])
    .unique()
    .where(sql.ref('status'), '=', 'approved')
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
