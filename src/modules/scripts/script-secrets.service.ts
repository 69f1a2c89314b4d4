import type { Core } from '../../core.ts';
import { isUniqueViolation, lockRow } from '../../db/locks.ts';
import { assertThat, conflict, forbidden, notFound } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import { createScriptSecretsRepo, scriptSecretAt, type ScriptSecretRow } from './scripts.repo.ts';
import { toSecretOut, type CreateSecretIn, type UpdateSecretIn } from './scripts.types.ts';

const nameTaken = () => conflict('secret_name_taken', 'a script secret with this name already exists');

/**
 * Admin-managed values that scripts read with secrets.get(name), once granted. The value
 * is sealed with the master key on the way in and only ever unsealed for a run: it is
 * never returned, logged or audited (DESIGN rule 10).
 */
export function createScriptSecretsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, deps: { encrypter: Encrypter }) {
  const { db, dialect, clock, audit } = core;
  const secrets = createScriptSecretsRepo(db);

  const withScripts = async (rows: ScriptSecretRow[]) => {
    const scripts = await createScriptSecretsRepo(db).scriptsOf(rows.map((r) => r.id));
    return rows.map((r) => toSecretOut(r, scripts.get(r.id) ?? []));
  };

  async function write<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
  }

  return {
    list: async (actor: Actor, page: PageQuery) => {
      assertThat(actor.isAdmin, forbidden());
      const result = toPage(await secrets.list(page), page.limit);
      return { items: await withScripts(result.items), next_cursor: result.next_cursor };
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const row = await secrets.findById(id);
      assertThat(row, notFound('script secret'));
      return (await withScripts([row]))[0]!;
    },

    create: async (actor: Actor, input: CreateSecretIn) => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const id = newId(clock);
      const row: ScriptSecretRow = { id, name: input.name, value_encrypted: deps.encrypter.encrypt(input.value, scriptSecretAt(id)), created_at: now, updated_at: now };
      await write(() =>
        db.transaction().execute(async (trx) => {
          await createScriptSecretsRepo(trx).insert(row);
          await audit.append(trx, { actor, action: 'script_secret.created', targetType: 'script_secret', targetId: row.id, data: { name: row.name } });
        }),
      );
      return toSecretOut(row, []);
    },

    update: async (actor: Actor, id: string, input: UpdateSecretIn) => {
      assertThat(actor.isAdmin, forbidden());
      const sealed = input.value === undefined ? undefined : deps.encrypter.encrypt(input.value, scriptSecretAt(id));
      const row = await write(() =>
        db.transaction().execute(async (trx) => {
          const repo = createScriptSecretsRepo(trx);
          await lockRow(trx, dialect, 'script_secrets', 'id', id);
          const before = await repo.findById(id);
          assertThat(before, notFound('script secret'));
          const patch: Partial<ScriptSecretRow> = { updated_at: clock.now() };
          if (input.name !== undefined) patch.name = input.name;
          if (sealed !== undefined) patch.value_encrypted = sealed;
          await repo.update(id, patch);
          await audit.append(trx, {
            actor,
            action: 'script_secret.updated',
            targetType: 'script_secret',
            targetId: id,
            data: { name: patch.name ?? before.name, previous_name: before.name, value_changed: sealed !== undefined },
          });
          return { ...before, ...patch };
        }),
      );
      return (await withScripts([row]))[0]!;
    },

    /** The secret goes, and with it every script's grant of it. */
    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        const repo = createScriptSecretsRepo(trx);
        await lockRow(trx, dialect, 'script_secrets', 'id', id);
        const before = await repo.findById(id);
        assertThat(before, notFound('script secret'));
        const scriptIds = (await repo.scriptsOf([id])).get(id) ?? [];
        await repo.remove(id);
        await audit.append(trx, { actor, action: 'script_secret.deleted', targetType: 'script_secret', targetId: id, data: { name: before.name, script_ids: scriptIds } });
      });
    },
  };
}
export type ScriptSecretsService = ReturnType<typeof createScriptSecretsService>;
