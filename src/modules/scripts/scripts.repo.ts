import type { SealedAt } from '../../security/encryption.ts';
import type { Selectable } from 'kysely';
import type { DialectName, Executor, Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import { neverDeleted } from '../../db/names.ts';
import type { ScriptRunsTable, ScriptSecretsTable, ScriptsTable } from '../../db/schema.ts';

export type ScriptRow = Selectable<ScriptsTable>;
export type ScriptSecretRow = Selectable<ScriptSecretsTable>;
export type ScriptRunRow = Selectable<ScriptRunsTable>;

/** Scripts (soft-deleted), their secret grants and their run records. */
export function createScriptsRepo(db: Executor) {
  const live = () => db.selectFrom('scripts').selectAll().where('deleted_at', 'is', null);
  return {
    findLive: (id: string) => live().where('id', '=', id).executeTakeFirst(),
    /** Whether the script exists and is not deleted. */
    isLive: async (id: string): Promise<boolean> => Boolean(await db.selectFrom('scripts').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()),
    list: (opts: { limit: number; cursor?: string; q?: string }) => {
      let q = live().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      if (opts.q) q = q.where(matchesIgnoringCase('name', opts.q, 'contains'));
      return q.execute();
    },
    insert: (row: ScriptRow) => db.insertInto('scripts').values(row).execute(),
    update: (id: string, patch: Partial<Omit<ScriptRow, 'id' | 'created_at'>>) =>
      db.updateTable('scripts').set(patch).where('id', '=', id).where('deleted_at', 'is', null).execute(),

    /** Secret ids granted to each of the given scripts, sorted by secret id. */
    grantsOf: async (scriptIds: string[]): Promise<Map<string, string[]>> => {
      const byScript = new Map<string, string[]>(scriptIds.map((id) => [id, []]));
      if (scriptIds.length === 0) return byScript;
      const rows = await db.selectFrom('script_secret_grants').select(['script_id', 'secret_id']).where('script_id', 'in', scriptIds).orderBy('secret_id').execute();
      for (const row of rows) byScript.get(row.script_id)?.push(row.secret_id);
      return byScript;
    },
    replaceGrants: async (scriptId: string, secretIds: string[]) => {
      await db.deleteFrom('script_secret_grants').where('script_id', '=', scriptId).execute();
      if (secretIds.length) await db.insertInto('script_secret_grants').values(secretIds.map((secret_id) => ({ script_id: scriptId, secret_id }))).execute();
    },
    /** Takes back every secret granted to the script (a deleted script keeps none). */
    revokeAllGrants: async (scriptId: string) => {
      await db.deleteFrom('script_secret_grants').where('script_id', '=', scriptId).execute();
    },
    /** Name and sealed value of every secret granted to the script. */
    grantedSecrets: (scriptId: string) =>
      db
        .selectFrom('script_secret_grants')
        .innerJoin('script_secrets', 'script_secrets.id', 'script_secret_grants.secret_id')
        .select(['script_secrets.id', 'script_secrets.name', 'script_secrets.value_encrypted'])
        .where('script_secret_grants.script_id', '=', scriptId)
        .execute(),

    insertRun: (row: ScriptRunRow) => db.insertInto('script_runs').values(row).execute(),
    /** Newest first: ids are time-ordered, so the cursor is the last id and the next page is older. */
    listRuns: (opts: { limit: number; cursor?: string; scriptId?: string; requestId?: string }) => {
      let q = db.selectFrom('script_runs').selectAll().orderBy('id', 'desc').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '<', opts.cursor);
      if (opts.scriptId) q = q.where('script_id', '=', opts.scriptId);
      if (opts.requestId) q = q.where('request_id', '=', opts.requestId);
      return q.execute();
    },
  };
}
export type ScriptsRepo = ReturnType<typeof createScriptsRepo>;

export function createScriptSecretsRepo(db: Executor) {
  const all = () => db.selectFrom('script_secrets').selectAll();
  return {
    findById: (id: string) => all().where('id', '=', id).executeTakeFirst(),
    list: (opts: { limit: number; cursor?: string }) => {
      let q = all().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      return q.execute();
    },
    /** Which of the given ids exist. */
    existing: async (ids: string[]) =>
      ids.length ? (await db.selectFrom('script_secrets').select('id').where('id', 'in', ids).execute()).map((r) => r.id) : [],
    /** Live scripts each secret is granted to, sorted by script id. */
    scriptsOf: async (secretIds: string[]): Promise<Map<string, string[]>> => {
      const bySecret = new Map<string, string[]>(secretIds.map((id) => [id, []]));
      if (secretIds.length === 0) return bySecret;
      const rows = await db
        .selectFrom('script_secret_grants')
        .innerJoin('scripts', 'scripts.id', 'script_secret_grants.script_id')
        .select(['script_secret_grants.secret_id', 'script_secret_grants.script_id'])
        .where('script_secret_grants.secret_id', 'in', secretIds)
        .where('scripts.deleted_at', 'is', null)
        .orderBy('script_secret_grants.script_id')
        .execute();
      for (const row of rows) bySecret.get(row.secret_id)?.push(row.script_id);
      return bySecret;
    },
    insert: (row: ScriptSecretRow) => db.insertInto('script_secrets').values(row).execute(),
    update: (id: string, patch: Partial<Pick<ScriptSecretRow, 'name' | 'value_encrypted' | 'updated_at'>>) =>
      db.updateTable('script_secrets').set(patch).where('id', '=', id).execute(),
    /** Grants go first, so no script keeps a dangling grant on either dialect. */
    remove: async (id: string) => {
      await db.deleteFrom('script_secret_grants').where('secret_id', '=', id).execute();
      await db.deleteFrom('script_secrets').where('id', '=', id).execute();
    },
  };
}
export type ScriptSecretsRepo = ReturnType<typeof createScriptSecretsRepo>;

/** Where a script secret's value is sealed: bound into its ciphertext, so it cannot be moved to another secret. */
export function scriptSecretAt(id: string): SealedAt {
  return { table: 'script_secrets', column: 'value_encrypted', row: id };
}

/**
 * Locks a script's row and says whether it is live, in the caller's transaction: a template
 * naming it as its trigger calls this, and deleting a script takes the same lock before it
 * checks that no template runs it, so the two cannot both pass.
 */
export async function lockLiveScript(trx: Tx, dialect: DialectName, id: string): Promise<boolean> {
  await lockRow(trx, dialect, 'scripts', 'id', id);
  return createScriptsRepo(trx).isLive(id);
}

/** Every script's id and name, deleted ones included: the audit log's names. */
export const scriptNamesQuery = (db: Executor) => db.selectFrom('scripts').select(['id', 'name', 'deleted_at']);

/** Every script secret's id and name: the audit log's names. */
export const scriptSecretNamesQuery = (db: Executor) => db.selectFrom('script_secrets').select(['id', 'name', neverDeleted()]);
