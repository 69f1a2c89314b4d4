import type { Executor } from '../../db/database.ts';
import { neverDeleted } from '../../db/names.ts';
import { createGroupsRepo, ordinaryGroupIdsQuery } from '../groups/groups.repo.ts';
import type { MappingValue } from './mappings.types.ts';

/**
 * A mapping with its value decoded from value_json and its ordinary groups, sorted.
 * mapping_groups also links mappings to the system groups of access grants
 * (requests/grants.ts); those links are the grants' business, so they are neither
 * shown in group_ids nor touched when an admin replaces group_ids.
 */
export interface Mapping {
  id: string;
  app_id: string;
  claim: string;
  value: MappingValue;
  description: string;
  group_ids: string[];
  created_at: number;
  updated_at: number;
}

export function createMappingsRepo(db: Executor) {
  /** One query for the groups of a whole page, not one per mapping. */
  async function withGroups(rows: { id: string; app_id: string; claim: string; value_json: string; description: string; created_at: number; updated_at: number }[]): Promise<Mapping[]> {
    if (rows.length === 0) return [];
    const links = await db
      .selectFrom('mapping_groups')
      .innerJoin(ordinaryGroupIdsQuery(db).as('g'), 'g.id', 'mapping_groups.group_id')
      .select(['mapping_groups.mapping_id', 'mapping_groups.group_id'])
      .where('mapping_groups.mapping_id', 'in', rows.map((r) => r.id))
      .orderBy('mapping_groups.group_id')
      .execute();
    return rows.map(({ value_json, ...row }) => ({
      ...row,
      value: JSON.parse(value_json) as MappingValue,
      group_ids: links.filter((l) => l.mapping_id === row.id).map((l) => l.group_id),
    }));
  }

  /** Replaces the ordinary groups only: links to grant groups belong to live access grants. */
  async function setGroups(mappingId: string, groupIds: string[]): Promise<void> {
    await db
      .deleteFrom('mapping_groups')
      .where('mapping_id', '=', mappingId)
      .where('group_id', 'in', ordinaryGroupIdsQuery(db))
      .execute();
    if (groupIds.length) await db.insertInto('mapping_groups').values(groupIds.map((group_id) => ({ mapping_id: mappingId, group_id }))).execute();
  }

  return {
    /** Whether any mapping exists; they go with their application (the first-run checklist). */
    anyExists: async (): Promise<boolean> => (await db.selectFrom('mappings').select('id').limit(1).executeTakeFirst()) !== undefined,
    /** Links the mappings to an access grant's system group (requests/grants.ts): the grant gives them while it lasts. */
    linkGrantGroup: async (mappingIds: readonly string[], groupId: string): Promise<void> => {
      if (mappingIds.length) await db.insertInto('mapping_groups').values(mappingIds.map((mapping_id) => ({ mapping_id, group_id: groupId }))).execute();
    },
    findById: async (id: string) => (await withGroups(await db.selectFrom('mappings').selectAll().where('id', '=', id).execute()))[0],
    list: async (opts: { limit: number; cursor?: string; appId?: string }) => {
      let q = db.selectFrom('mappings').selectAll().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      if (opts.appId) q = q.where('app_id', '=', opts.appId);
      return withGroups(await q.execute());
    },
    insert: async (m: Mapping) => {
      const { value, group_ids, ...row } = m;
      await db.insertInto('mappings').values({ ...row, value_json: JSON.stringify(value) }).execute();
      await setGroups(m.id, group_ids);
    },
    update: async (id: string, patch: Partial<Pick<Mapping, 'claim' | 'value' | 'description' | 'group_ids' | 'updated_at'>>) => {
      const { value, group_ids, ...rest } = patch;
      await db
        .updateTable('mappings')
        .set({ ...rest, ...(value !== undefined ? { value_json: JSON.stringify(value) } : {}) })
        .where('id', '=', id)
        .execute();
      if (group_ids) await setGroups(id, group_ids);
    },
    delete: (id: string) => db.deleteFrom('mappings').where('id', '=', id).execute(),
    /** Claim and raw value of the mappings that still exist among `ids`, by id: what a request's snapshot freezes. */
    claimValues: (ids: readonly string[]) => db.selectFrom('mappings').select(['id', 'claim', 'value_json']).where('id', 'in', [...ids]).orderBy('id').execute(),
    /** The application of each of the mappings that exist among `ids`. */
    appIdsOf: (ids: readonly string[]) => (ids.length ? db.selectFrom('mappings').select(['id', 'app_id']).where('id', 'in', [...ids]).execute() : Promise.resolve([])),
    /** Ids of every mapping of an application. */
    idsOfApp: async (appId: string): Promise<string[]> => (await db.selectFrom('mappings').select('id').where('app_id', '=', appId).execute()).map((r) => r.id),
    /** Removes every mapping of an application (their group links cascade); returns their ids. */
    deleteByApp: async (appId: string) => {
      const rows = await db.deleteFrom('mappings').where('app_id', '=', appId).returning('id').execute();
      return rows.map((r) => r.id).sort();
    },
    /** The named groups that exist, with their system flag (the groups module's repo answers). */
    findGroups: (ids: string[]) => createGroupsRepo(db).findAnyByIds(ids),
  };
}
export type MappingsRepo = ReturnType<typeof createMappingsRepo>;

/** The groups (ordinary and grant groups) a mapping is linked to, as a subquery: what a retired mapping ends. */
export const groupIdsLinkedToQuery = (db: Executor, mappingId: string) => db.selectFrom('mapping_groups').select('group_id').where('mapping_id', '=', mappingId);

/** Each mapping of an application with each group it is linked to (claim, value_json, group_id), as a subquery: the claims query joins it. */
export const mappingLinksOfAppQuery = (db: Executor, appId: string) =>
  db.selectFrom('mappings as m').innerJoin('mapping_groups as mg', 'mg.mapping_id', 'm.id').select(['m.claim', 'm.value_json', 'mg.group_id']).where('m.app_id', '=', appId);

/** The applications these groups feed through mappings (holder groups → apps): where a change to their members alters claims. */
export async function appIdsFedBy(db: Executor, groupIds: readonly string[]): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db
    .selectFrom('mappings as m')
    .innerJoin('mapping_groups as mg', 'mg.mapping_id', 'm.id')
    .select('m.app_id')
    .distinct()
    .where('mg.group_id', 'in', [...groupIds])
    .orderBy('m.app_id')
    .execute();
  return rows.map((r) => r.app_id);
}

/** Every mapping's id, named by its claim: the audit log's names. */
export const mappingNamesQuery = (db: Executor) => db.selectFrom('mappings').select(['id', 'claim as name', neverDeleted()]);
