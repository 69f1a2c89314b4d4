import type { Executor } from '../../db/database.ts';

/** The mappings of these applications and the groups each is linked to (insights: standing access). */
export async function mappingsWithLinks(db: Executor, appIds: readonly string[]) {
  if (appIds.length === 0) return { mappings: [], links: [] };
  const mappings = await db.selectFrom('mappings').select(['id', 'app_id', 'claim', 'value_json']).where('app_id', 'in', [...appIds]).orderBy('id').execute();
  const links = await db
    .selectFrom('mapping_groups as mg')
    .innerJoin('mappings as m', 'm.id', 'mg.mapping_id')
    .select(['mg.mapping_id', 'mg.group_id'])
    .where('m.app_id', 'in', [...appIds])
    .orderBy('mg.mapping_id')
    .orderBy('mg.group_id')
    .execute();
  return { mappings, links };
}
