import type { Executor } from '../../db/database.ts';
import type { Actor } from '../../http/actor.ts';
import type { Template } from '../templates/templates.types.ts';
import { mayReviewBreakGlass } from './break-glass.ts';
import { pendingTtlsOf } from '../templates/lapse-glass.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { createBreakGlassRepo } from './break-glass.repo.ts';
import type { BreakGlassOut } from './break-glass-out.types.ts';
import { lapsesAt } from './lapse.ts';
import type { RequestRow } from './requests.repo.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface LapseGlassFields {
  lapses_at: string | null;
  break_glass: BreakGlassOut | null;
}

/**
 * What issue 12 §4 and §5 add to a page of requests: when each pending one lapses, and each
 * break-glass grant's review. Two or three queries per page, whatever its size.
 */
export async function loadLapseGlassFields(db: Executor, rows: readonly RequestRow[], now: number): Promise<(r: RequestRow) => LapseGlassFields> {
  const pending = rows.filter((r) => r.status === 'pending');
  const [ttls, reviews] = await Promise.all([pendingTtlsOf(db, [...new Set(pending.map((r) => r.template_id))]), createBreakGlassRepo(db).ofRequests(rows.map((r) => r.id))]);
  const reviewerIds = [...new Set([...reviews.values()].flatMap((b) => (b.reviewed_by ? [b.reviewed_by] : [])))];
  const people = new Map((reviewerIds.length ? await createUsersRepo(db).peopleOf(reviewerIds) : []).map((p) => [p.id, p]));
  return (r) => {
    const b = reviews.get(r.id);
    return {
      lapses_at: r.status === 'pending' ? iso(lapsesAt(r.created_at, ttls.get(r.template_id))) : null,
      break_glass: b
        ? {
            review_state: b.review_state,
            activated_at: iso(b.activated_at)!,
            review_due_at: iso(b.review_due_at)!,
            review_overdue: b.review_state === 'unreviewed' && b.review_due_at <= now,
            reviewed_by: b.reviewed_by === null ? null : (people.get(b.reviewed_by) ?? { id: b.reviewed_by, email: '', name: '(deleted user)' }),
            reviewed_at: iso(b.reviewed_at),
            review_comment: b.review_comment,
          }
        : null,
    };
  };
}

/** For the detail view: an unreviewed break-glass grant that this caller may review. */
export async function canReviewBreakGlass(db: Executor, now: number, template: Template, request: RequestRow, actor: Actor, groups: ReadonlySet<string>): Promise<boolean> {
  const review = await createBreakGlassRepo(db).findByRequest(request.id);
  return review?.review_state === 'unreviewed' && (await mayReviewBreakGlass(db, now, template, request, actor, groups));
}
