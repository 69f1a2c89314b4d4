import type { Tx } from '../../db/database.ts';
import type { Clock } from '../../clock.ts';
import { findLoudActions } from '../event-actions/event-actions.repo.ts';
import type { RequestEventName } from '../event-payload/event-payload.types.ts';
import type { MatchingAction } from '../events/index.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import { createUsersRepo } from '../users/users.repo.ts';

const ALERTS: ReadonlySet<RequestEventName> = new Set(['access_request.break_glass_activated', 'access_request.break_glass_review_overdue']);

/** Who must hear of a break-glass use, and where: every active admin and live approver-group member, every loud action. */
export interface BreakGlassAlert {
  recipients: string[];
  loudActions: MatchingAction[];
}

/**
 * For the break-glass alerts only (undefined for every other event): every active admin and
 * every live, active member of the template's approver groups (the fan-out plan leaves out
 * the requester), regardless of the notification policy, and every enabled webhook and Slack
 * action in the template's scope. Read inside the event's transaction.
 */
export async function breakGlassAlertFor(trx: Tx, clock: Clock, type: RequestEventName, template: Template): Promise<BreakGlassAlert | undefined> {
  if (!ALERTS.has(type)) return undefined;
  const [admins, members, loudActions] = await Promise.all([
    createUsersRepo(trx).activeAdminIds(),
    template.approver_group_ids.length ? createMembershipsRepo(trx).activeMembersOf(template.approver_group_ids, clock.now()) : Promise.resolve([]),
    findLoudActions(trx, template.id),
  ]);
  return { recipients: [...new Set([...admins, ...members.map((m) => m.user_id)])], loudActions };
}
