import type { Executor } from '../../db/database.ts';
import { createVotesRepo, type VoteRow } from './votes.repo.ts';

/** A grant request as insights read it (src/modules/insights): its lifecycle instants, no payload. */
export interface RequestHistoryRow {
  id: string;
  template_id: string;
  requester_id: string;
  status: string;
  created_at: number;
  current_stage: number;
  decided_at: number | null;
  decided_by: string | null;
  approved_at: number | null;
  escalated: number;
  activated_at: number | null;
  expires_at: number | null;
  ended_at: number | null;
  /** 1 when the requester granted it to themselves (break-glass). */
  break_glass: number;
}

/**
 * The history insights need: grant requests (not extensions) submitted in [from, to),
 * optionally of one template, oldest first, and every approval (vote) of them.
 */
export async function requestHistory(db: Executor, range: { from: number; to: number; templateId?: string }): Promise<{ requests: RequestHistoryRow[]; votes: VoteRow[] }> {
  let q = db
    .selectFrom('access_requests as r')
    .leftJoin('break_glass_grants as b', 'b.request_id', 'r.id')
    .select([
      'r.id',
      'r.template_id',
      'r.requester_id',
      'r.status',
      'r.created_at',
      'r.current_stage',
      'r.decided_at',
      'r.decided_by',
      'r.approved_at',
      'r.escalated',
      'r.activated_at',
      'r.expires_at',
      'r.ended_at',
    ])
    .select((eb) => eb.case().when('b.request_id', 'is not', null).then(1).else(0).end().as('break_glass'))
    .where('r.kind', '=', 'request')
    .where('r.created_at', '>=', range.from)
    .where('r.created_at', '<', range.to);
  if (range.templateId) q = q.where('r.template_id', '=', range.templateId);
  const requests = (await q.orderBy('r.created_at').orderBy('r.id').execute()).map((r) => ({ ...r, break_glass: Number(r.break_glass) }));
  const votes: VoteRow[] = [];
  const ids = requests.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) votes.push(...(await createVotesRepo(db).ofRequests(ids.slice(i, i + 500))));
  return { requests, votes };
}
