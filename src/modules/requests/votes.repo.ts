import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { AccessRequestVotesTable } from '../../db/schema.ts';

export type VoteRow = Selectable<AccessRequestVotesTable>;

/**
 * Approvals of requests, one row per (request, approver): the primary key makes one
 * person count once per request, in one stage only. Written only by a decision that
 * holds the request's row lock (see stage-decisions.ts).
 */
export function createVotesRepo(db: Executor) {
  return {
    insert: (row: VoteRow) => db.insertInto('access_request_votes').values(row).execute(),

    find: (requestId: string, approverId: string) =>
      db.selectFrom('access_request_votes').selectAll().where('request_id', '=', requestId).where('approver_id', '=', approverId).executeTakeFirst(),

    /** Approvals of one stage, oldest first. */
    ofStage: (requestId: string, stage: number) =>
      db.selectFrom('access_request_votes').selectAll().where('request_id', '=', requestId).where('stage', '=', stage).orderBy('created_at').orderBy('approver_id').execute(),

    /** Every approval of these requests, by stage then time. */
    ofRequests: async (requestIds: readonly string[]): Promise<VoteRow[]> =>
      requestIds.length === 0
        ? []
        : db.selectFrom('access_request_votes').selectAll().where('request_id', 'in', [...requestIds]).orderBy('stage').orderBy('created_at').orderBy('approver_id').execute(),

    /** Drops approvals that no longer count (their approver lost the right to decide before the grant). */
    remove: async (requestId: string, approverIds: readonly string[]): Promise<void> => {
      if (approverIds.length === 0) return;
      await db.deleteFrom('access_request_votes').where('request_id', '=', requestId).where('approver_id', 'in', [...approverIds]).execute();
    },
  };
}
