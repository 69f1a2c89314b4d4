import type { Executor } from '../../db/database.ts';
import type { Actor } from '../../http/actor.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';

/**
 * Who decides a template's requests: its approver groups (none = open) and, once
 * escalated, its escalation group. A deleted template decides nothing any more.
 */
export interface ApprovalPolicy {
  approver_group_ids: readonly string[];
  escalation_group_id: string | null;
  deleted_at: number | null;
}

export interface RequestParties {
  requester_id: string;
  escalated: 0 | 1;
}

/**
 * May this user approve or deny? Never their own request; on an open template anyone
 * else; otherwise a live member of an approver group, or of the escalation group once
 * the request has escalated. Admins get no special right here (DESIGN: who may do what).
 */
export function mayDecide(policy: ApprovalPolicy, request: RequestParties, userId: string, liveGroupIds: ReadonlySet<string>): boolean {
  if (request.requester_id === userId || policy.deleted_at !== null) return false;
  if (policy.approver_group_ids.length === 0) return true;
  if (policy.approver_group_ids.some((g) => liveGroupIds.has(g))) return true;
  return request.escalated === 1 && policy.escalation_group_id !== null && liveGroupIds.has(policy.escalation_group_id);
}

/**
 * May this user revoke an approved grant early? Admins, members of the approver groups,
 * and the requester giving their own access back. "Anyone may approve" on an open
 * template does not stretch to revoking someone's access.
 */
export function mayRevoke(policy: ApprovalPolicy, request: RequestParties, actor: Actor, liveGroupIds: ReadonlySet<string>): boolean {
  if (actor.isAdmin || request.requester_id === actor.userId) return true;
  return policy.deleted_at === null && policy.approver_group_ids.some((g) => liveGroupIds.has(g));
}

/** May this user see the request at all (and its discussion)? Otherwise it is "not found". */
export function mayView(policy: ApprovalPolicy, request: RequestParties & { decided_by: string | null }, actor: Actor, liveGroupIds: ReadonlySet<string>): boolean {
  return (
    actor.isAdmin ||
    request.requester_id === actor.userId ||
    request.decided_by === actor.userId ||
    mayDecide(policy, request, actor.userId, liveGroupIds) ||
    mayRevoke(policy, request, actor, liveGroupIds)
  );
}

/** The groups a user is a live member of at `at` (membership and group both unexpired): the same rule as the claims. */
export function liveGroupIdsOf(db: Executor, userId: string, at: number): Promise<Set<string>> {
  return createMembershipsRepo(db).liveGroupIdsOf(userId, at);
}
