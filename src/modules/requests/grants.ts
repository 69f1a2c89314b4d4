import type { Executor } from '../../db/database.ts';
import { createGroupsRepo } from '../groups/groups.repo.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';
import { SYSTEM_GROUP_PREFIX } from '../groups/index.ts';
import { createMappingsRepo } from '../mappings/mappings.repo.ts';
import { createGrantUsageRepo } from '../claims/usage.repo.ts';
import { newId } from '../../security/ids.ts';
import type { Clock } from '../../clock.ts';

export const grantGroupName = (requestId: string) => `${SYSTEM_GROUP_PREFIX}${requestId}`;

/**
 * The grant behind an approved request: a system group that expires with the access,
 * the requester as its only member, and the request's mappings attached to it. Token
 * issuance filters on these expiries, so access ends on time even if the worker is down.
 */
export async function createGrant(
  trx: Executor,
  clock: Clock,
  grant: { requestId: string; requesterId: string; mappingIds: readonly string[]; expiresAt: number; startsAt?: number | null },
): Promise<string> {
  const now = clock.now();
  const groupId = newId(clock);
  await createGroupsRepo(trx).insert({
    id: groupId,
    name: grantGroupName(grant.requestId),
    description: `Temporary access granted by access request ${grant.requestId}`,
    is_system: 1,
    expires_at: grant.expiresAt,
    created_at: now,
    updated_at: now,
  });
  // A scheduled grant's membership counts from its start (the claims decision point reads starts_at).
  await createMembershipsRepo(trx).insert({ group_id: groupId, user_id: grant.requesterId, expires_at: grant.expiresAt, starts_at: grant.startsAt ?? null, created_at: now });
  await createMappingsRepo(trx).linkGrantGroup(grant.mappingIds, groupId);
  // Its usage row (insights): the token path only updates it, so it knows the group is a grant.
  await createGrantUsageRepo(trx).register(groupId, grant.requestId);
  return groupId;
}

/** Deletes the grant group; memberships and mapping links go with it (foreign-key cascade). Idempotent. */
export async function removeGrant(trx: Executor, groupId: string | null): Promise<void> {
  if (!groupId) return;
  await createGroupsRepo(trx).removeSystem(groupId);
}

/** removeGrant for the grants of a batch (an expiry chunk), in one statement. */
export async function removeGrants(trx: Executor, groupIds: readonly (string | null)[]): Promise<void> {
  const ids = groupIds.filter((id): id is string => id !== null);
  if (ids.length) await createGroupsRepo(trx).removeSystemMany(ids);
}

/** Moves the grant's end: the group's and the requester's membership's expiry, which the claims read. */
export async function extendGrant(trx: Executor, clock: Clock, grant: { groupId: string; requesterId: string; expiresAt: number }): Promise<void> {
  await createGroupsRepo(trx).setSystemExpiry(grant.groupId, grant.expiresAt, clock.now());
  await createMembershipsRepo(trx).update(grant.groupId, grant.requesterId, { expires_at: grant.expiresAt });
}
