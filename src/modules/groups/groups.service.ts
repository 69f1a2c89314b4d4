import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { isForeignKeyViolation, isUniqueViolation, lockRow } from '../../db/locks.ts';
import { assertThat, conflict, forbidden, invalidField, notFound } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import type { ClaimsWatch } from './claims-watch.types.ts';
import { createGroupsRepo, type GroupRow } from './groups.repo.ts';
import { createMembershipsRepo } from './memberships.repo.ts';
import type { CreateGroupIn, UpdateGroupIn } from './groups.types.ts';
import { isReservedGroupName, SYSTEM_GROUP_PREFIX } from './system-groups.ts';

const nameTaken = () => conflict('group_name_taken', 'a group with this name already exists');
const inUse = (templates: { id: string; name: string }[]) =>
  conflict('group_in_use', templates.length ? `access-request templates use this group: ${templates.map((t) => t.name).join(', ')}` : 'an access-request template uses this group', {
    templates,
  });

function assertOrdinaryName(name: string | undefined): void {
  if (name === undefined) return;
  assertThat(!isReservedGroupName(name), invalidField('name', `the prefix ${SYSTEM_GROUP_PREFIX} is reserved for access-request groups`));
}

/**
 * What the groups service asks of the templates module, which sits above it (wired in the
 * composition root): the templates that name a group, so a group in use is not deleted.
 */
export interface GroupsHooks {
  templatesUsingGroup(trx: Tx, groupId: string): Promise<{ id: string; name: string }[]>;
}

/** Admin management of ordinary groups. System groups answer "not found" everywhere here. */
export function createGroupsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, hooks: GroupsHooks, claims: ClaimsWatch) {
  const { db, dialect, clock, audit } = core;
  const groups = createGroupsRepo(db);

  return {
    list: async (actor: Actor, page: PageQuery & { name?: string; q?: string }) => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await groups.list(page), page.limit);
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const group = await groups.findVisibleById(id);
      assertThat(group, notFound('group'));
      return group;
    },

    /** The group with exactly this name (a Terraform data source's lookup); system groups are never found. */
    getByName: async (actor: Actor, name: string) => {
      assertThat(actor.isAdmin, forbidden());
      // DESIGN (Terraform): exactly one match ignoring case, else fail. Two names that differ only
      // in case are both legal, so the lookup names them rather than picking one.
      const [group, ...others] = await groups.findVisibleNamedIgnoringCase(name, 2);
      assertThat(group, notFound('group'));
      assertThat(others.length === 0, conflict('group_name_ambiguous', `several groups are named ${JSON.stringify(name)} ignoring case; use the exact group id`));
      return group;
    },

    create: async (actor: Actor, input: CreateGroupIn) => {
      assertThat(actor.isAdmin, forbidden());
      assertOrdinaryName(input.name);
      const now = clock.now();
      const row: GroupRow = { id: newId(clock), name: input.name, description: input.description, is_system: 0, expires_at: null, created_at: now, updated_at: now };
      try {
        await db.transaction().execute(async (trx) => {
          await createGroupsRepo(trx).insert(row);
          await audit.append(trx, { actor, action: 'group.created', targetType: 'group', targetId: row.id, data: publicFields(row) });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken();
        throw error;
      }
      return row;
    },

    update: async (actor: Actor, id: string, input: UpdateGroupIn) => {
      assertThat(actor.isAdmin, forbidden());
      assertOrdinaryName(input.name);
      try {
        return await db.transaction().execute(async (trx) => {
          await lockRow(trx, dialect, 'groups', 'id', id);
          const repo = createGroupsRepo(trx);
          const before = await repo.findVisibleById(id);
          assertThat(before, notFound('group'));
          const patch: Partial<GroupRow> = { updated_at: clock.now() };
          if (input.name !== undefined) patch.name = input.name;
          if (input.description !== undefined) patch.description = input.description;
          await repo.update(id, patch);
          const after = { ...before, ...patch };
          await audit.append(trx, { actor, action: 'group.updated', targetType: 'group', targetId: id, data: { before: publicFields(before), after: publicFields(after) } });
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken();
        throw error;
      }
    },

    /**
     * Its memberships and mapping links go with it (FK cascade). A group that a template
     * references stays: 409 naming the templates, so no template silently loses approvers.
     */
    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      try {
        await db.transaction().execute(async (trx) => {
          await lockRow(trx, dialect, 'groups', 'id', id);
          const repo = createGroupsRepo(trx);
          const group = await repo.findVisibleById(id);
          assertThat(group, notFound('group'));
          const templates = await hooks.templatesUsingGroup(trx, id);
          assertThat(templates.length === 0, inUse(templates));
          const members = await createMembershipsRepo(trx).countInGroup(id);
          // Its members lose what it fed: `claims_changed` for each (member, application) that differs.
          const watch = await claims.before(trx, { groupIds: [id] });
          await repo.remove(id);
          await watch.changed('a group of the user was deleted', 'admin');
          await audit.append(trx, { actor, action: 'group.deleted', targetType: 'group', targetId: id, data: { ...publicFields(group), memberships_removed: members } });
        });
      } catch (error) {
        // A template that started referencing the group after our check: the foreign key still says no.
        if (isForeignKeyViolation(error)) throw inUse([]);
        throw error;
      }
    },
  };
}
export type GroupsService = ReturnType<typeof createGroupsService>;

function publicFields(g: GroupRow) {
  return { name: g.name, description: g.description };
}
