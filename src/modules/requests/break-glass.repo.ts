import type { Selectable } from 'kysely';
import type { DialectName, Executor } from '../../db/database.ts';
import { claimRows } from '../../db/locks.ts';
import type { BreakGlassGrantsTable } from '../../db/schema.ts';
import { approverGroupLinksQuery } from '../templates/templates.repo.ts';
import type { BreakGlassReviewState } from './lifecycle.ts';

export type BreakGlassRow = Selectable<BreakGlassGrantsTable>;

/** SQL of break_glass_grants: one row per break-glass activation and its review (issue 12 §5). */
export function createBreakGlassRepo(db: Executor) {
  return {
    insert: (row: BreakGlassRow) => db.insertInto('break_glass_grants').values(row).execute(),

    findByRequest: (requestId: string) => db.selectFrom('break_glass_grants').selectAll().where('request_id', '=', requestId).executeTakeFirst(),

    ofRequests: async (requestIds: readonly string[]): Promise<Map<string, BreakGlassRow>> => {
      if (requestIds.length === 0) return new Map();
      const rows = await db.selectFrom('break_glass_grants').selectAll().where('request_id', 'in', [...requestIds]).execute();
      return new Map(rows.map((r) => [r.request_id, r]));
    },

    /** The user's break-glass grant that still gives access at `at`, if any: one at a time per user. */
    liveOf: (requesterId: string, at: number) =>
      db
        .selectFrom('break_glass_grants as b')
        .innerJoin('access_requests as r', 'r.id', 'b.request_id')
        .select('r.id')
        .where('b.requester_id', '=', requesterId)
        .where('r.status', '=', 'approved')
        .where('r.expires_at', '>', at)
        .executeTakeFirst(),

    /** Records the review's outcome if nobody reviewed it first; false when someone did. */
    async review(requestId: string, next: BreakGlassReviewState, by: { userId: string; at: number; comment: string }): Promise<boolean> {
      const result = await db
        .updateTable('break_glass_grants')
        .set({ review_state: next, reviewed_by: by.userId, reviewed_at: by.at, review_comment: by.comment })
        .where('request_id', '=', requestId)
        .where('review_state', '=', 'unreviewed')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Unreviewed grants past their review time whose reminder has not gone out, claimed for this transaction. */
    claimOverdue: (dialect: DialectName, at: number, limit: number) =>
      claimRows(
        db
          .selectFrom('break_glass_grants')
          .selectAll()
          .where('review_state', '=', 'unreviewed')
          .where('overdue_alerted_at', 'is', null)
          .where('review_due_at', '<=', at)
          .orderBy('review_due_at')
          .orderBy('request_id')
          .limit(limit),
        dialect,
      ).execute(),

    /** Marks the reminder as sent, once: false when another worker (or a review) got there first. */
    async markOverdueAlerted(requestId: string, at: number): Promise<boolean> {
      const result = await db
        .updateTable('break_glass_grants')
        .set({ overdue_alerted_at: at })
        .where('request_id', '=', requestId)
        .where('review_state', '=', 'unreviewed')
        .where('overdue_alerted_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Unreviewed break-glass requests, oldest first: every one (`groupIds` null, for admins) or
     * those of templates whose approver groups include one of `groupIds`, never the viewer's own.
     */
    listUnreviewed: (page: { limit: number; cursor?: string }, scope: { groupIds: readonly string[] | null; viewerId: string }) => {
      let q = db
        .selectFrom('access_requests as r')
        .innerJoin('break_glass_grants as b', 'b.request_id', 'r.id')
        .selectAll('r')
        .where('b.review_state', '=', 'unreviewed')
        .orderBy('r.id', 'asc')
        .limit(page.limit + 1);
      if (scope.groupIds !== null) {
        const groups = scope.groupIds.length ? [...scope.groupIds] : ['-'];
        q = q
          .where('r.requester_id', '!=', scope.viewerId)
          .where((eb) => eb.exists(approverGroupLinksQuery(db).where('template_id', '=', eb.ref('r.template_id')).where('group_id', 'in', groups)));
      }
      if (page.cursor) q = q.where('r.id', '>', page.cursor);
      return q.execute();
    },
  };
}
