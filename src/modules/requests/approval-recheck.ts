import type { Tx } from '../../db/database.ts';
import type { AuditActor } from '../../http/actor.ts';
import { createApplicationsRepo } from '../applications/applications.repo.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { liveGroupIdsOf, mayDecide } from './eligibility.ts';
import type { RequestRow } from './requests.repo.ts';
import { snapshotStillHolds, type RequestSnapshot } from './snapshot.ts';

/**
 * Why an approval can no longer take effect. `approverOnly`: everything the request
 * stands on holds, but the one who approved may no longer decide it, so it waits for
 * another approver; otherwise it cannot stand at all.
 */
export interface BrokenApproval {
  approverOnly: boolean;
  reason: string;
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
  return eligible ? null : { approverOnly: true, reason: 'the approver may no longer approve this request' };
}

const isActiveUser = (trx: Tx, id: string): Promise<boolean> => createUsersRepo(trx).isActive(id);
