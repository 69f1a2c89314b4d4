import type { Clock } from '../../clock.ts';
import type { DialectName, Tx } from '../../db/database.ts';
import { lockSelected } from '../../db/locks.ts';
import type { Template } from '../templates/templates.types.ts';
import { selectApprovers } from './notify-policy.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';

export type NotifiedTemplate = Pick<Template, 'id' | 'approver_group_ids' | 'escalation_group_id' | 'notification_policy' | 'notification_count'>;
export type ApproverStage = 'submitted' | 'escalated';

/** The round_robin pool key of an open template without an escalation group. */
export const ADMINS_POOL = 'admins';

interface Pools {
  /** Identifies the pools for round_robin: the sorted group ids joined, or ADMINS_POOL. */
  key: string;
  groupIds: string[] | null;
}

/**
 * Whom to ask at this stage. On submission the approver groups, on escalation the
 * escalation group. An open template (no approver groups) asks its escalation group if
 * it has one, else the active admins.
 */
function poolsFor(template: NotifiedTemplate, stage: ApproverStage): Pools | null {
  const escalation = template.escalation_group_id;
  if (stage === 'escalated') return escalation === null ? null : { key: escalation, groupIds: [escalation] };
  if (template.approver_group_ids.length > 0) {
    return { key: [...template.approver_group_ids].sort().join(','), groupIds: [...template.approver_group_ids] };
  }
  return escalation === null ? { key: ADMINS_POOL, groupIds: null } : { key: escalation, groupIds: [escalation] };
}

/**
 * Live members (membership and group unexpired) who are active users, per group in the
 * given order; within a group by membership created_at, then user id.
 */
async function loadGroupPools(trx: Tx, groupIds: string[], at: number): Promise<string[][]> {
  if (groupIds.length === 0) return [];
  const rows = await createMembershipsRepo(trx).activeMembersOf(groupIds, at);
  return groupIds.map((g) => rows.filter((r) => r.group_id === g).map((r) => r.user_id));
}

/**
 * Takes this template's round_robin turn for the pool inside the caller's transaction.
 * Insert-or-keep, then lock the row: on PostgreSQL a second submission waits here until
 * the first commits and so reads the advanced position; SQLite write transactions are
 * already serialized. The position lives in the database, so it survives restarts.
 */
async function lockPosition(trx: Tx, dialect: DialectName, templateId: string, pool: string): Promise<number> {
  await trx
    .insertInto('round_robin_positions')
    .values({ template_id: templateId, pool, position: 0 })
    .onConflict((oc) => oc.columns(['template_id', 'pool']).doNothing())
    .execute();
  const row = await lockSelected(
    trx.selectFrom('round_robin_positions').select('position').where('template_id', '=', templateId).where('pool', '=', pool),
    dialect,
  ).executeTakeFirstOrThrow();
  return Number(row.position);
}

/**
 * The approvers to notify about a request at a stage, by the template's notification
 * policy, never the requester. Runs inside the caller's transaction so a round_robin turn
 * is taken exactly when the request is recorded.
 */
export async function resolveApproverRecipients(
  trx: Tx,
  dialect: DialectName,
  clock: Clock,
  template: NotifiedTemplate,
  request: { id: string; requester_id: string },
  stage: ApproverStage,
): Promise<string[]> {
  const pools = poolsFor(template, stage);
  if (pools === null) return [];
  const members = pools.groupIds === null ? [await createUsersRepo(trx).activeAdminIds()] : await loadGroupPools(trx, pools.groupIds, clock.now());
  const base = { policy: template.notification_policy, count: template.notification_count, pools: members, requesterId: request.requester_id };

  if (template.notification_policy !== 'round_robin') return selectApprovers(base).userIds;
  // Nobody to ask: leave the turn (and the table) alone.
  if (selectApprovers(base).userIds.length === 0) return [];
  const position = await lockPosition(trx, dialect, template.id, pools.key);
  const picked = selectApprovers({ ...base, position });
  await trx
    .updateTable('round_robin_positions')
    .set({ position: picked.nextPosition })
    .where('template_id', '=', template.id)
    .where('pool', '=', pools.key)
    .execute();
  return picked.userIds;
}
