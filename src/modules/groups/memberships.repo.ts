import type { AliasableExpression, Insertable, Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { started, unexpired } from '../../db/expiry.ts';
import type { MembershipsTable } from '../../db/schema.ts';
import { activeUsersQuery, undeletedPeopleQuery } from '../users/users.repo.ts';

export type MembershipRow = Selectable<MembershipsTable>;

export interface MemberRow {
  user_id: string;
  email: string;
  name: string;
  expires_at: number | null;
  created_at: number;
}

export interface UserGroupRow {
  group_id: string;
  name: string;
  description: string;
  is_system: 0 | 1;
  membership_expires_at: number | null;
  group_expires_at: number | null;
}

export function createMembershipsRepo(db: Executor) {
  return {
    /** Any row for the pair, expired or not: the caller decides what an expired one means. */
    find: (groupId: string, userId: string) =>
      db.selectFrom('memberships').selectAll().where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst(),

    /** One live member of a group, with the user's email and name. */
    findLiveMember: (groupId: string, userId: string, at: number): Promise<MemberRow | undefined> =>
      db
        .selectFrom('memberships')
        .innerJoin(undeletedPeopleQuery(db).as('u'), 'u.id', 'memberships.user_id')
        .select(['memberships.user_id', 'u.email', 'u.name', 'memberships.expires_at', 'memberships.created_at'])
        .where('memberships.group_id', '=', groupId)
        .where('memberships.user_id', '=', userId)
        .where(unexpired('memberships.expires_at', at))
        .executeTakeFirst(),

    /** Live members of a group, by user id, with the user's email and name. */
    listMembers: (groupId: string, at: number, opts: { limit: number; cursor?: string }): Promise<MemberRow[]> => {
      let q = db
        .selectFrom('memberships')
        .innerJoin(undeletedPeopleQuery(db).as('u'), 'u.id', 'memberships.user_id')
        .select(['memberships.user_id', 'u.email', 'u.name', 'memberships.expires_at', 'memberships.created_at'])
        .where('memberships.group_id', '=', groupId)
        .where(unexpired('memberships.expires_at', at))
        .orderBy('memberships.user_id')
        .limit(opts.limit + 1);
      if (opts.cursor) q = q.where('memberships.user_id', '>', opts.cursor);
      return q.execute();
    },

    /** A user's live memberships in live groups, system groups included, by group id. */
    listGroupsOfUser: (userId: string, at: number, opts: { limit: number; cursor?: string }): Promise<UserGroupRow[]> => {
      let q = db
        .selectFrom('memberships')
        .innerJoin('groups', 'groups.id', 'memberships.group_id')
        .select([
          'groups.id as group_id',
          'groups.name',
          'groups.description',
          'groups.is_system',
          'memberships.expires_at as membership_expires_at',
          'groups.expires_at as group_expires_at',
        ])
        .where('memberships.user_id', '=', userId)
        .where(unexpired('memberships.expires_at', at))
        .where(started('memberships.starts_at', at))
        .where(unexpired('groups.expires_at', at))
        .orderBy('groups.id')
        .limit(opts.limit + 1);
      if (opts.cursor) q = q.where('groups.id', '>', opts.cursor);
      return q.execute();
    },

    /** Rows of a group, live or expired: what deleting it removes. */
    countInGroup: async (groupId: string): Promise<number> =>
      Number((await db.selectFrom('memberships').select((eb) => eb.fn.countAll().as('n')).where('group_id', '=', groupId).executeTakeFirstOrThrow()).n),

    /** The groups a user is a live member of at `at` (membership and group both unexpired): the same rule as the claims. */
    liveGroupIdsOf: async (userId: string, at: number): Promise<Set<string>> => {
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('groups', 'groups.id', 'memberships.group_id')
        .select('groups.id')
        .where('memberships.user_id', '=', userId)
        .where(unexpired('memberships.expires_at', at))
        .where(started('memberships.starts_at', at))
        .where(unexpired('groups.expires_at', at))
        .execute();
      return new Set(rows.map((r) => r.id));
    },

    /**
     * Live members (membership and group unexpired) who are active users, of these groups,
     * by membership created_at, then user id: the approver pools notifications pick from.
     */
    activeMembersOf: (groupIds: readonly string[], at: number) =>
      db
        .selectFrom('memberships')
        .innerJoin('groups', 'groups.id', 'memberships.group_id')
        .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'memberships.user_id')
        .select(['memberships.group_id', 'memberships.user_id'])
        .where('memberships.group_id', 'in', [...groupIds])
        .where(unexpired('memberships.expires_at', at))
        .where(unexpired('groups.expires_at', at))
        .orderBy('memberships.created_at')
        .orderBy('memberships.user_id')
        .execute(),

    /**
     * How many live members who are active users each of these groups has: the people the
     * notifications would ask (activeMembersOf). Groups without any are left out.
     */
    countActiveMembers: async (groupIds: readonly string[], at: number): Promise<Map<string, number>> => {
      if (groupIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('memberships as m')
        .innerJoin('groups as g', 'g.id', 'm.group_id')
        .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'm.user_id')
        .select(['m.group_id', (eb) => eb.fn.countAll().as('n')])
        .where('m.group_id', 'in', [...groupIds])
        .where(unexpired('m.expires_at', at))
        .where(unexpired('g.expires_at', at))
        .groupBy('m.group_id')
        .execute();
      return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
    },

    /** Of these groups, those with at least one live member who is an active user (the expiry rule of the claims). */
    groupsWithActiveMembers: async (groupIds: readonly string[], at: number): Promise<string[]> => {
      if (groupIds.length === 0) return [];
      const rows = await db
        .selectFrom('memberships as m')
        .innerJoin('groups as g', 'g.id', 'm.group_id')
        .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'm.user_id')
        .select('m.group_id')
        .distinct()
        .where('m.group_id', 'in', [...groupIds])
        .where(unexpired('m.expires_at', at))
        .where(unexpired('g.expires_at', at))
        .execute();
      return rows.map((r) => r.group_id);
    },

    /** A user's live memberships of ordinary (not system) groups, by group name. */
    liveOrdinaryGroupsOf: (userId: string, at: number) =>
      db
        .selectFrom('memberships')
        .innerJoin('groups', 'groups.id', 'memberships.group_id')
        .select(['groups.id', 'groups.name', 'memberships.expires_at'])
        .where('memberships.user_id', '=', userId)
        .where('groups.is_system', '=', 0)
        .where(unexpired('memberships.expires_at', at))
        .where(unexpired('groups.expires_at', at))
        .orderBy('groups.name')
        .execute(),

    insert: (row: Insertable<MembershipsTable>) => db.insertInto('memberships').values(row).execute(),
    update: (groupId: string, userId: string, patch: Partial<Pick<MembershipRow, 'expires_at' | 'created_at'>>) =>
      db.updateTable('memberships').set(patch).where('group_id', '=', groupId).where('user_id', '=', userId).execute(),
    remove: (groupId: string, userId: string) =>
      db.deleteFrom('memberships').where('group_id', '=', groupId).where('user_id', '=', userId).execute(),
    /** Every membership of a user, live or expired: a deleted user keeps none. */
    removeAllOfUser: (userId: string) => db.deleteFrom('memberships').where('user_id', '=', userId).execute(),
  };
}
export type MembershipsRepo = ReturnType<typeof createMembershipsRepo>;

/**
 * The ids of the groups a user is a live member of at `at` (membership and group both
 * unexpired), as a subquery: the templates a user may request are one statement with it.
 */
export const liveGroupIdsOfQuery = (db: Executor, userId: string, at: number) =>
  db
    .selectFrom('memberships as m')
    .innerJoin('groups as g', 'g.id', 'm.group_id')
    .select('m.group_id')
    .where('m.user_id', '=', userId)
    .where(unexpired('m.expires_at', at))
    .where(started('m.starts_at', at))
    .where(unexpired('g.expires_at', at));

/**
 * A user's live memberships in live groups at `at` (group_id and both expiries), as a
 * subquery: the claims query joins it. Memberships whose window has not opened yet (a
 * scheduled grant's, `starts_at` later than `at`) are included with their start: the
 * claims decision point counts them only from then, and caps tokens at that start.
 */
export const liveMembershipsOfQuery = (db: Executor, userId: string, at: number) =>
  db
    .selectFrom('memberships as ms')
    .innerJoin('groups as g', 'g.id', 'ms.group_id')
    .select(['ms.group_id', 'g.expires_at as group_expires_at', 'ms.expires_at as membership_expires_at', 'ms.starts_at as membership_starts_at'])
    .where('ms.user_id', '=', userId)
    .where(unexpired('g.expires_at', at))
    .where(unexpired('ms.expires_at', at));

/** The users with a membership (live or not) of any of these groups: whose claims a change to the groups may alter (signals/claims-watch.ts). */
export async function memberIdsOf(db: Executor, groupIds: readonly string[]): Promise<string[]> {
  if (groupIds.length === 0) return [];
  const rows = await db.selectFrom('memberships').select('user_id').distinct().where('group_id', 'in', [...groupIds]).orderBy('user_id').execute();
  return rows.map((r) => r.user_id);
}

/** liveMembershipsOfQuery for several users at once, with the user id: the claims of a batch of signals read in one query per application. */
export const liveMembershipsOfUsersQuery = (db: Executor, userIds: readonly string[], at: number) =>
  db
    .selectFrom('memberships as ms')
    .innerJoin('groups as g', 'g.id', 'ms.group_id')
    .select(['ms.user_id', 'ms.group_id', 'g.expires_at as group_expires_at', 'ms.expires_at as membership_expires_at', 'ms.starts_at as membership_starts_at'])
    .where('ms.user_id', 'in', [...userIds])
    .where(unexpired('g.expires_at', at))
    .where(unexpired('ms.expires_at', at));

/** The active users with a live membership of any of `groupIds` (a subquery of group ids), as `id` rows: the MFA policy's approvers. */
export const liveMemberIdsQuery = (db: Executor, groupIds: AliasableExpression<{ group_id: string }>, at: number) =>
  db
    .selectFrom('memberships as m')
    .innerJoin('groups as g', 'g.id', 'm.group_id')
    .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'm.user_id')
    .select('m.user_id as id')
    .where('m.group_id', 'in', (eb) => eb.selectFrom(groupIds.as('ag')).select('ag.group_id'))
    .where(unexpired('m.expires_at', at))
    .where(started('m.starts_at', at))
    .where(unexpired('g.expires_at', at));
