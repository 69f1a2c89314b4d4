import type { Executor } from '../../db/database.ts';
import { activeUsersQuery } from '../users/users.repo.ts';

/**
 * Standing access (insights): the active members of these groups whose membership never
 * ends, in ordinary groups that never end either (not a grant's system group).
 */
export async function permanentMembersOf(db: Executor, groupIds: readonly string[]) {
  if (groupIds.length === 0) return [];
  return db
    .selectFrom('memberships as ms')
    .innerJoin('groups as g', 'g.id', 'ms.group_id')
    .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'ms.user_id')
    .select(['ms.group_id', 'g.name as group_name', 'ms.user_id', 'u.email', 'u.name'])
    .where('ms.group_id', 'in', [...groupIds])
    .where('g.is_system', '=', 0)
    .where('g.expires_at', 'is', null)
    .where('ms.expires_at', 'is', null)
    .where('ms.starts_at', 'is', null)
    .orderBy('ms.group_id')
    .orderBy('ms.user_id')
    .execute();
}
