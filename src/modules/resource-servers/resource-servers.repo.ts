import type { Executor } from '../../db/database.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import { neverDeleted } from '../../db/names.ts';
import { liveApplicationIdsQuery } from '../applications/applications.repo.ts';

export interface ResourceServer {
  id: string;
  audience: string;
  name: string;
  description: string;
  scopes: string[];
  app_ids: string[];
  created_at: number;
  updated_at: number;
}

const parseList = (text: string): string[] => {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
};

/** The registry of resource servers (resource_servers, resource_server_apps): this module owns both tables. */
export function createResourceServersRepo(db: Executor) {
  async function withApps(rows: { id: string; audience: string; name: string; description: string; scopes: string; created_at: number; updated_at: number }[]): Promise<ResourceServer[]> {
    if (rows.length === 0) return [];
    // Applications deleted since stay listed in the table but not in answers; they can no longer ask anyway.
    const links = await db
      .selectFrom('resource_server_apps as l')
      .innerJoin(liveApplicationIdsQuery(db).as('a'), 'a.id', 'l.app_id')
      .select(['l.resource_server_id', 'l.app_id'])
      .where('l.resource_server_id', 'in', rows.map((r) => r.id))
      .orderBy('l.app_id')
      .execute();
    return rows.map((r) => ({ ...r, scopes: parseList(r.scopes), app_ids: links.filter((l) => l.resource_server_id === r.id).map((l) => l.app_id) }));
  }

  const columns = ['id', 'audience', 'name', 'description', 'scopes', 'created_at', 'updated_at'] as const;

  return {
    list: async (opts: { limit: number; cursor?: string; q?: string }) => {
      let q = db.selectFrom('resource_servers').select(columns).orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      const text = opts.q;
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('name', text, 'contains'), matchesIgnoringCase('audience', text, 'contains')]));
      return withApps(await q.execute());
    },

    findById: async (id: string) => (await withApps(await db.selectFrom('resource_servers').select(columns).where('id', '=', id).execute()))[0],

    insert: async (server: ResourceServer) => {
      const { app_ids, scopes, ...row } = server;
      await db.insertInto('resource_servers').values({ ...row, scopes: JSON.stringify(scopes) }).execute();
      await replaceApps(db, server.id, app_ids);
    },

    update: async (id: string, patch: Partial<Omit<ResourceServer, 'id' | 'created_at'>>) => {
      const { app_ids, scopes, ...row } = patch;
      await db
        .updateTable('resource_servers')
        .set({ ...row, ...(scopes ? { scopes: JSON.stringify(scopes) } : {}) })
        .where('id', '=', id)
        .execute();
      if (app_ids) await replaceApps(db, id, app_ids);
    },

    delete: async (id: string) => {
      await db.deleteFrom('resource_server_apps').where('resource_server_id', '=', id).execute();
      await db.deleteFrom('resource_servers').where('id', '=', id).execute();
    },
  };
}
export type ResourceServersRepo = ReturnType<typeof createResourceServersRepo>;

async function replaceApps(db: Executor, id: string, appIds: readonly string[]): Promise<void> {
  await db.deleteFrom('resource_server_apps').where('resource_server_id', '=', id).execute();
  if (appIds.length) await db.insertInto('resource_server_apps').values(appIds.map((app_id) => ({ resource_server_id: id, app_id }))).execute();
}

/**
 * For the token endpoint: the resource server at `audience`, and whether application
 * `appId` may ask for it. One indexed query (audience is unique; the link by its key).
 */
export function resourceServerForClientQuery(db: Executor, audience: string, appId: string) {
  return db
    .selectFrom('resource_servers as r')
    .leftJoin('resource_server_apps as l', (join) => join.onRef('l.resource_server_id', '=', 'r.id').on('l.app_id', '=', appId))
    .select(['r.audience', 'r.scopes', 'l.app_id'])
    .where('r.audience', '=', audience);
}
export { parseList as parseScopes };

/** Every resource server's id and name: the audit log's names. */
export const resourceServerNamesQuery = (db: Executor) => db.selectFrom('resource_servers').select(['id', 'name', neverDeleted()]);
