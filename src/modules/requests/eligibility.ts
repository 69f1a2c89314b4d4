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
  /** Approval stages (issue 12 §1); absent or one stage: the flat attributes above are the only stage. */
  stages?: readonly { approver_group_ids: readonly string[]; escalation_group_id: string | null }[];
}

export interface RequestParties {
  requester_id: string;
  escalated: 0 | 1;
  /** The stage the request waits in (1-based; absent: 1). Its escalation flag is that stage's. */
  current_stage?: number;
}

/** The policy of the stage the request is in (a template edited to fewer stages leaves it in the last). */
function currentStagePolicy(policy: ApprovalPolicy, request: RequestParties): ApprovalPolicy {
  const stages = policy.stages;
  const position = request.current_stage ?? 1;
  if (!stages || stages.length <= 1 || position <= 1) return policy;
  const stage = stages[Math.min(position, stages.length) - 1]!;
  return { approver_group_ids: stage.approver_group_ids, escalation_group_id: stage.escalation_group_id, deleted_at: policy.deleted_at };
}

/**
 * May this user approve or deny? Never their own request; on an open template anyone
 * else; otherwise a live member of an approver group, or of the escalation group once
 * the request has escalated. Admins get no special right here (DESIGN: who may do what).
 */
export function mayDecide(template: ApprovalPolicy, request: RequestParties, userId: string, liveGroupIds: ReadonlySet<string>): boolean {
  const policy = currentStagePolicy(template, request);
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
  if (policy.deleted_at !== null) return false;
  // The approvers of every stage (issue 12 §1), not only those of the first.
  return policy.approver_group_ids.some((g) => liveGroupIds.has(g)) || (policy.stages ?? []).some((s) => s.approver_group_ids.some((g) => liveGroupIds.has(g)));
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
