import type { Core } from '../../core.ts';
import { lockRow } from '../../db/locks.ts';
import { assertThat, forbidden, invalidField, notFound } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import { parseInstant, toIsoOrNull } from '../../http/schemas.ts';
import type { Actor } from '../../http/actor.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import type { UserHooks } from '../users/users.service.ts';
import type { ClaimsWatch } from './claims-watch.types.ts';
import { createGroupsRepo } from './groups.repo.ts';
import type { NameGrants, PutMemberIn } from './groups.types.ts';
import { SYSTEM_GROUP_PREFIX } from './system-groups.ts';
import { createMembershipsRepo, type MemberRow, type MembershipRow } from './memberships.repo.ts';

export type PutMemberResult = { member: MemberRow; outcome: 'added' | 'updated' | 'unchanged' };

const isLive = (m: Pick<MembershipRow, 'expires_at'>, at: number) => m.expires_at === null || m.expires_at > at;

/**
 * Memberships of ordinary groups (admin), and a user's own view of what they belong to.
 * A membership whose expires_at has passed counts as gone everywhere here. A change that
 * alters the member's claims for an application records `claims_changed` through `claims`.
 */
export function createMembershipsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, claims: ClaimsWatch, nameGrants: NameGrants) {
  const { db, dialect, clock, audit } = core;
  const groups = createGroupsRepo(db);
  const memberships = createMembershipsRepo(db);
  const users = createUsersRepo(db);

  return {
    /** The active member count of each group (0 for none), for the admin lists and the template editor's approver warnings. */
    activeMemberCounts: async (actor: Actor, groupIds: readonly string[]): Promise<Map<string, number>> => {
      assertThat(actor.isAdmin, forbidden());
      return memberships.countActiveMembers(groupIds, clock.now());
    },

    listMembers: async (actor: Actor, groupId: string, page: PageQuery) => {
      assertThat(actor.isAdmin, forbidden());
      assertThat(await groups.findVisibleById(groupId), notFound('group'));
      const rows = await memberships.listMembers(groupId, clock.now(), page);
      return toPage(
        rows.map((r) => ({ ...r, id: r.user_id })),
        page.limit,
      );
    },

    /** One live membership: 404 for an unknown group, a non-member or an expired membership alike. */
    getMember: async (actor: Actor, groupId: string, userId: string) => {
      assertThat(actor.isAdmin, forbidden());
      assertThat(await groups.findVisibleById(groupId), notFound('group'));
      const member = await memberships.findLiveMember(groupId, userId, clock.now());
      assertThat(member, notFound('membership'));
      return member;
    },

    /**
     * Adds the user, or sets the expiry of their membership: the same call twice leaves
     * one membership and writes one audit event. An expired membership is replaced.
     */
    put: async (actor: Actor, groupId: string, userId: string, input: PutMemberIn): Promise<PutMemberResult> => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const expiresAt = input.expires_at == null ? null : parseInstant(input.expires_at);
      if (expiresAt !== null) assertThat(expiresAt > now, invalidField('expires_at', 'must be in the future'));
      return db.transaction().execute(async (trx) => {
        // Serialises changes to one group's members against each other and against its deletion.
        await lockRow(trx, dialect, 'groups', 'id', groupId);
        assertThat(await createGroupsRepo(trx).findVisibleById(groupId), notFound('group'));
        const user = await createUsersRepo(trx).findById(userId);
        assertThat(user, notFound('user'));
        const repo = createMembershipsRepo(trx);
        const existing = await repo.find(groupId, userId);
        const member = (row: Pick<MembershipRow, 'expires_at' | 'created_at'>): MemberRow => ({ user_id: userId, email: user.email, name: user.name, ...row });

        if (existing && isLive(existing, now)) {
          if (existing.expires_at === expiresAt) return { member: member(existing), outcome: 'unchanged' };
          const watch = await claims.before(trx, { groupIds: [groupId], userIds: [userId] });
          await repo.update(groupId, userId, { expires_at: expiresAt });
          await watch.changed('a group membership of the user changed', 'admin');
          await audit.append(trx, {
            actor,
            action: 'membership.updated',
            targetType: 'group',
            targetId: groupId,
            data: { user_id: userId, before: { expires_at: toIsoOrNull(existing.expires_at) }, after: { expires_at: toIsoOrNull(expiresAt) } },
          });
          return { member: member({ expires_at: expiresAt, created_at: existing.created_at }), outcome: 'updated' };
        }

        const fresh = { expires_at: expiresAt, created_at: now };
        const watch = await claims.before(trx, { groupIds: [groupId], userIds: [userId] });
        if (existing) await repo.update(groupId, userId, fresh);
        else await repo.insert({ group_id: groupId, user_id: userId, ...fresh });
        await watch.changed('the user was added to a group', 'admin');
        await audit.append(trx, {
          actor,
          action: 'membership.added',
          targetType: 'group',
          targetId: groupId,
          data: { user_id: userId, expires_at: toIsoOrNull(expiresAt), replaced_expired: Boolean(existing) },
        });
        return { member: member(fresh), outcome: 'added' };
      });
    },

    remove: async (actor: Actor, groupId: string, userId: string) => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'groups', 'id', groupId);
        assertThat(await createGroupsRepo(trx).findVisibleById(groupId), notFound('group'));
        const repo = createMembershipsRepo(trx);
        const existing = await repo.find(groupId, userId);
        assertThat(existing && isLive(existing, clock.now()), notFound('membership'));
        const watch = await claims.before(trx, { groupIds: [groupId], userIds: [userId] });
        await repo.remove(groupId, userId);
        await watch.changed('the user was removed from a group', 'admin');
        await audit.append(trx, {
          actor,
          action: 'membership.removed',
          targetType: 'group',
          targetId: groupId,
          data: { user_id: userId, expires_at: toIsoOrNull(existing.expires_at) },
        });
      });
    },

    /**
     * What a user belongs to right now, temporary access grants (system groups) included.
     * Admins read anyone's; a user reads only their own, and anyone else is "not found".
     */
    listGroupsOfUser: async (actor: Actor, userId: string, page: PageQuery) => {
      assertThat(actor.isAdmin || actor.userId === userId, notFound('user'));
      assertThat(await users.findById(userId), notFound('user'));
      const rows = await memberships.listGroupsOfUser(userId, clock.now(), page);
      // A grant group is named after its request: name the request instead (one lookup a page).
      const requestIdOf = (r: (typeof rows)[number]) => (r.is_system === 1 && r.name.startsWith(SYSTEM_GROUP_PREFIX) ? r.name.slice(SYSTEM_GROUP_PREFIX.length) : null);
      const requestIds = rows.map(requestIdOf).filter((id): id is string => id !== null);
      const grants = new Map((requestIds.length ? await nameGrants(requestIds) : []).map((g) => [g.request_id, g]));
      return toPage(
        rows.map((r) => {
          const requestId = requestIdOf(r);
          return { ...r, id: r.group_id, grant: (requestId && grants.get(requestId)) || null };
        }),
        page.limit,
      );
    },
  };
}
export type MembershipsService = ReturnType<typeof createMembershipsService>;

/** Hooks for the users module: a deleted user keeps no membership. */
export function membershipUserHooks(): Pick<UserHooks, 'userDeleted'> {
  return {
    async userDeleted(trx, userId) {
      await createMembershipsRepo(trx).removeAllOfUser(userId);
    },
  };
}
