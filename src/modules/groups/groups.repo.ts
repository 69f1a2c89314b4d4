import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { GroupsTable } from '../../db/schema.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import { neverDeleted } from '../../db/names.ts';

export type GroupRow = Selectable<GroupsTable>;

/** Ordinary groups only: system groups (is_system = 1) are invisible to everything here. */
export function createGroupsRepo(db: Executor) {
  const visible = () => db.selectFrom('groups').selectAll().where('is_system', '=', 0);
  return {
    /** Whether any ordinary group exists (the first-run checklist). */
    anyVisible: async (): Promise<boolean> => (await visible().select('id').limit(1).executeTakeFirst()) !== undefined,
    findVisibleById: (id: string) => visible().where('id', '=', id).executeTakeFirst(),
    /** Names are unique and compared exactly (case included), as the unique index does. */
    /** The visible groups whose name is exactly `name` ignoring case (names are unique only with case), at most `limit`. */
    findVisibleNamedIgnoringCase: (name: string, limit: number) =>
      visible()
        .where(sql<boolean>`lower(${sql.ref('name')}) = lower(${name})`)
        .orderBy('name')
        .limit(limit)
        .execute(),
    list: (opts: { limit: number; cursor?: string; name?: string; q?: string }) => {
      let q = visible().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      if (opts.name) q = q.where(matchesIgnoringCase('name', opts.name, 'contains'));
      const text = opts.q;
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('name', text, 'contains'), matchesIgnoringCase('description', text, 'contains')]));
      return q.execute();
    },
    /** The named groups that exist, system groups and expired ones included, with their name and system flag. */
    findAnyByIds: (ids: readonly string[]) =>
      ids.length ? db.selectFrom('groups').select(['id', 'name', 'is_system']).where('id', 'in', [...ids]).execute() : Promise.resolve([]),
    insert: (row: GroupRow) => db.insertInto('groups').values(row).execute(),
    update: (id: string, patch: Partial<Pick<GroupRow, 'name' | 'description' | 'updated_at'>>) =>
      db.updateTable('groups').set(patch).where('id', '=', id).where('is_system', '=', 0).execute(),
    /** Memberships and mapping links go with the group (ON DELETE CASCADE). */
    remove: (id: string) => db.deleteFrom('groups').where('id', '=', id).where('is_system', '=', 0).execute(),
    /** Deletes a system group (an access grant's); its memberships and mapping links cascade. */
    removeSystem: (id: string) => db.deleteFrom('groups').where('id', '=', id).where('is_system', '=', 1).execute(),
    /** Moves a system group's (an access grant's) expiry: an extension of the grant. */
    setSystemExpiry: (id: string, expiresAt: number, at: number) =>
      db.updateTable('groups').set({ expires_at: expiresAt, updated_at: at }).where('id', '=', id).where('is_system', '=', 1).execute(),
    /** removeSystem for many groups in one statement. */
    removeSystemMany: (ids: readonly string[]) => db.deleteFrom('groups').where('id', 'in', [...ids]).where('is_system', '=', 1).execute(),
  };
}
export type GroupsRepo = ReturnType<typeof createGroupsRepo>;

/** The ids of the ordinary (not system) groups, as a subquery: mapping group lists leave grant groups out with it. */
export const ordinaryGroupIdsQuery = (db: Executor) => db.selectFrom('groups').select('id').where('is_system', '=', 0);

/** Every group's id and name (system groups included): the audit log's names. */
export const groupNamesQuery = (db: Executor) => db.selectFrom('groups').select(['id', 'name', neverDeleted()]);
