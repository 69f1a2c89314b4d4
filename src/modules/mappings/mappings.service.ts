import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { isForeignKeyViolation, lockRow } from '../../db/locks.ts';
import { assertThat, forbidden, invalidField, notFound, type AppError } from '../../http/errors.ts';
import { toPage } from '../../http/pagination.ts';
import { toIso } from '../../http/schemas.ts';
import { newId } from '../../security/ids.ts';
import type { Actor, AuditActor } from '../../http/actor.ts';
import type { ClaimsWatch } from '../groups/claims-watch.types.ts';
import { createMappingsRepo, groupIdsLinkedToQuery, type Mapping } from './mappings.repo.ts';
import type { CreateMappingIn, ListMappingsQuery, UpdateMappingIn } from './mappings.types.ts';

/**
 * What must happen before mappings are deleted, in the deleting transaction. Templates and
 * requests sit above mappings (they grant them), so the requests module provides this and
 * both the mappings and the applications services call it.
 */
export interface MappingRetirement {
  /**
   * Refuses (409 `mapping_in_use` / `application_in_use`) while a live template grants any of
   * the mappings; otherwise ends the grants and open requests that still stand on them.
   */
  mappingsRetiring(trx: Tx, mappingIds: readonly string[], what: 'mapping' | 'application', actor: AuditActor): Promise<void>;
}

/**
 * Where the modules above plug in. Mappings sits below applications (deleting an application
 * deletes its mappings), so the applications module provides `lockLiveApp` rather than
 * mappings importing the applications module.
 */
export interface MappingsHooks extends MappingRetirement {
  /**
   * Locks the application row and says whether it is live. Every mapping writer calls
   * this first (then locks the mapping), the same order as deleting an application, so a
   * mapping can't be attached to an app being deleted.
   */
  lockLiveApp(trx: Tx, appId: string): Promise<boolean>;
}

/** Mappings: what an application grants, and through which groups. Admin only. */
export function createMappingsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, hooks: MappingsHooks, claims: ClaimsWatch) {
  const { db, clock, audit, dialect } = core;
  const { lockLiveApp, mappingsRetiring } = hooks;

  /** Only ordinary groups may carry a mapping: system groups belong to access grants. */
  async function groupsProblem(trx: Tx, groupIds: string[]): Promise<AppError | null> {
    const found = await createMappingsRepo(trx).findGroups(groupIds);
    const unknown = groupIds.filter((id) => !found.some((g) => g.id === id));
    if (unknown.length) return invalidField('group_ids', `no such group: ${unknown.join(', ')}`);
    const system = found.filter((g) => g.is_system === 1).map((g) => g.id);
    if (system.length) return invalidField('group_ids', `system groups cannot be mapped: ${system.join(', ')}`);
    return null;
  }

  /** Every group a mapping is linked to, its access grants' included: whose members' claims a change to it alters. */
  const linkedGroups = async (trx: Tx, id: string) => (await groupIdsLinkedToQuery(trx, id).execute()).map((r) => r.group_id);

  /** A group deleted between our check and our insert trips the foreign key; say which field. */
  async function groupsMayVanish<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isForeignKeyViolation(error)) throw invalidField('group_ids', 'a group was deleted meanwhile');
      throw error;
    }
  }

  return {
    list: async (actor: Actor, query: ListMappingsQuery) => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await createMappingsRepo(db).list({ ...query, appId: query.app_id }), query.limit);
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const mapping = await createMappingsRepo(db).findById(id);
      assertThat(mapping, notFound('mapping'));
      return mapping;
    },

    create: async (actor: Actor, input: CreateMappingIn) => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const mapping: Mapping = { id: newId(clock), ...input, created_at: now, updated_at: now };
      return groupsMayVanish(() =>
        db.transaction().execute(async (trx) => {
          assertThat(await lockLiveApp(trx, input.app_id), invalidField('app_id', 'no such application'));
          const problem = await groupsProblem(trx, input.group_ids);
          if (problem) throw problem;
          const watch = await claims.before(trx, { groupIds: input.group_ids, appIds: [input.app_id] });
          await createMappingsRepo(trx).insert(mapping);
          await watch.changed('a mapping of the application was created', 'admin');
          await audit.append(trx, { actor, action: 'mapping.created', targetType: 'mapping', targetId: mapping.id, data: auditFields(mapping) });
          return mapping;
        }),
      );
    },

    update: async (actor: Actor, id: string, input: UpdateMappingIn) => {
      assertThat(actor.isAdmin, forbidden());
      const seen = await createMappingsRepo(db).findById(id);
      assertThat(seen, notFound('mapping'));
      return groupsMayVanish(() =>
        db.transaction().execute(async (trx) => {
          const repo = createMappingsRepo(trx);
          assertThat(await lockLiveApp(trx, seen.app_id), notFound('mapping'));
          await lockRow(trx, dialect, 'mappings', 'id', id);
          // Re-read under the locks: the mapping (or its whole app) may have gone meanwhile.
          const before = await repo.findById(id);
          assertThat(before, notFound('mapping'));
          if (input.group_ids) {
            const problem = await groupsProblem(trx, input.group_ids);
            if (problem) throw problem;
          }
          const patch = { ...input, updated_at: clock.now() };
          const watch = await claims.before(trx, { groupIds: [...(await linkedGroups(trx, id)), ...(input.group_ids ?? [])], appIds: [before.app_id] });
          await repo.update(id, patch);
          await watch.changed('a mapping of the application was changed', 'admin');
          const after: Mapping = { ...before, ...patch };
          await audit.append(trx, { actor, action: 'mapping.updated', targetType: 'mapping', targetId: id, data: { before: auditFields(before), after: auditFields(after) } });
          return after;
        }),
      );
    },

    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const seen = await createMappingsRepo(db).findById(id);
      assertThat(seen, notFound('mapping'));
      await db.transaction().execute(async (trx) => {
        const repo = createMappingsRepo(trx);
        assertThat(await lockLiveApp(trx, seen.app_id), notFound('mapping'));
        const before = await repo.findById(id);
        assertThat(before, notFound('mapping'));
        // Held until the delete: the grants it ends and the members it fed are told once each.
        const watch = await claims.before(trx, { groupIds: await linkedGroups(trx, id), appIds: [before.app_id] });
        await mappingsRetiring(trx, [id], 'mapping', actor);
        await repo.delete(id);
        await watch.changed('a mapping of the application was deleted', 'admin');
        await audit.append(trx, { actor, action: 'mapping.deleted', targetType: 'mapping', targetId: id, data: auditFields(before) });
      });
    },
  };
}
export type MappingsService = ReturnType<typeof createMappingsService>;

function auditFields(m: Mapping) {
  return { app_id: m.app_id, claim: m.claim, value: m.value, group_ids: m.group_ids, description: m.description };
}

export function toMappingOut(m: Mapping) {
  return {
    id: m.id,
    app_id: m.app_id,
    claim: m.claim,
    value: m.value,
    group_ids: m.group_ids,
    description: m.description,
    created_at: toIso(m.created_at),
    updated_at: toIso(m.updated_at),
  };
}
