import type { Executor } from '../../db/database.ts';

export interface TemplateGrantRow {
  id: string;
  name: string;
  app_id: string;
  deleted: boolean;
  mapping_ids: string[];
}

/** Every template (deleted ones too: old requests name them) with its application and the mappings it grants (insights). */
export async function templateGrants(db: Executor): Promise<TemplateGrantRow[]> {
  const rows = await db.selectFrom('access_request_templates').select(['id', 'name', 'app_id', 'deleted_at']).orderBy('name').orderBy('id').execute();
  const links = await db.selectFrom('template_mappings').select(['template_id', 'mapping_id']).orderBy('mapping_id').execute();
  return rows.map((t) => ({ id: t.id, name: t.name, app_id: t.app_id, deleted: t.deleted_at !== null, mapping_ids: links.filter((l) => l.template_id === t.id).map((l) => l.mapping_id) }));
}
