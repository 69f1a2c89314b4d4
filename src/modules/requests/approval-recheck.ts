import type { Tx } from '../../db/database.ts';
import type { AuditActor } from '../../http/actor.ts';
import { createApplicationsRepo } from '../applications/applications.repo.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { liveGroupIdsOf, mayDecide } from './eligibility.ts';
import type { RequestRow } from './requests.repo.ts';
import { snapshotStillHolds, type RequestSnapshot } from './snapshot.ts';
import { createVotesRepo } from './votes.repo.ts';

/**
 * Why an approval can no longer take effect. `approverOnly`: everything the request
 * stands on holds, but the one who approved may no longer decide it, so it waits for
 * another approver; otherwise it cannot stand at all.
 */
export interface BrokenApproval {
  approverOnly: boolean;
  reason: string;
  /** Approvers whose approvals of the final stage no longer count (they were dropped from the stage's count). */
  lostVoters?: string[];
}

/**
 * Every guard the approval decision needed, read again inside the transaction that
 * would grant (with the request row locked): a blocking trigger task ran outside any
 * transaction, and anything may have changed meanwhile. Null when the grant may go ahead.
 */
export async function recheckApproval(trx: Tx, request: RequestRow, approver: AuditActor, now: number): Promise<BrokenApproval | null> {
  const template = await loadTemplateForRequest(trx, request.template_id, { includeDeleted: true });
  if (!template || template.deleted_at !== null) return { approverOnly: false, reason: 'the template was deleted' };
  if (!template.enabled) return { approverOnly: false, reason: 'the template was disabled' };
  if (!(await isActiveUser(trx, request.requester_id))) return { approverOnly: false, reason: 'the requester was disabled or deleted' };

  const snapshot = JSON.parse(request.snapshot) as RequestSnapshot;
  if (!(await createApplicationsRepo(trx).isLive(snapshot.app.id))) return { approverOnly: false, reason: 'the application was deleted' };
  if (!(await snapshotStillHolds(trx, snapshot))) return { approverOnly: false, reason: 'a mapping the grant gives was changed or deleted' };

  if (approver === 'system') {
    // Auto-approval stands on the requester being in a requester group of an auto-approve template.
    const groups = await liveGroupIdsOf(trx, request.requester_id, now);
    const stillAuto = template.auto_approve && template.requester_group_ids.some((g) => groups.has(g));
    return stillAuto ? null : { approverOnly: true, reason: 'the request no longer qualifies for auto-approval' };
  }
  const eligible = (await isActiveUser(trx, approver.userId)) && mayDecide(template, request, approver.userId, await liveGroupIdsOf(trx, approver.userId, now));
  if (!eligible) return { approverOnly: true, reason: 'the approver may no longer approve this request', lostVoters: [approver.userId] };
  // Every approval that counted toward the final stage's quorum must still stand (DESIGN: races in the new workflows).
  const lostVoters: string[] = [];
  for (const vote of await createVotesRepo(trx).ofStage(request.id, request.current_stage)) {
    const stands = (await isActiveUser(trx, vote.approver_id)) && mayDecide(template, request, vote.approver_id, await liveGroupIdsOf(trx, vote.approver_id, now));
    if (!stands) lostVoters.push(vote.approver_id);
  }
  return lostVoters.length === 0 ? null : { approverOnly: true, reason: 'an approval that counted toward the quorum no longer stands (its approver may no longer approve)', lostVoters };
}

const isActiveUser = (trx: Tx, id: string): Promise<boolean> => createUsersRepo(trx).isActive(id);
