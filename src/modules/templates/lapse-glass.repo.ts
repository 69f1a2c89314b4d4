import type { Executor } from '../../db/database.ts';

// Query fragments for the requests module's lapse task and views (issue 12 §4): only this
// module names the templates' table; the caller embeds the subquery in its own statement.

/** Templates whose pending requests lapse: their id and pending_ttl_mins (deleted ones included). */
export const lapsingTemplatesQuery = (db: Executor) =>
  db.selectFrom('access_request_templates').select(['id', 'pending_ttl_mins']).where('pending_ttl_mins', 'is not', null);

/** pending_ttl_mins of these templates, for those that have one. */
export async function pendingTtlsOf(db: Executor, templateIds: readonly string[]): Promise<Map<string, number>> {
  if (templateIds.length === 0) return new Map();
  const rows = await lapsingTemplatesQuery(db)
    .where('id', 'in', [...templateIds])
    .execute();
  return new Map(rows.map((r) => [r.id, Number(r.pending_ttl_mins)]));
}
