import type { DialectName, Executor } from '../../db/database.ts';
import { csvCell } from '../audit/index.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { listForAdmin, sortValueOf, type AdminCursor, type AdminFilter } from './admin-list.ts';
import type { RequestRow } from './requests.repo.ts';
import type { RequestSnapshot } from './snapshot.ts';

/** Names and emails beside each id, so the file reads without the API. */
export const REQUEST_CSV_COLUMNS = [
  'id',
  'status',
  'kind',
  'template_id',
  'template_name',
  'application_name',
  'requester_id',
  'requester_name',
  'requester_email',
  'duration_mins',
  'justification',
  'submitted_at',
  'decided_at',
  'decided_by_name',
  'decided_by_email',
  'decision_comment',
  'starts_at',
  'expires_at',
  'ended_at',
  'end_reason',
  'ended_by_email',
  'revoke_reason',
  'updated_at',
] as const;

const BATCH = 500;
const iso = (ms: number | null) => (ms === null ? '' : new Date(Number(ms)).toISOString());

function line(r: RequestRow, people: Map<string, { name: string; email: string }>): string {
  const snapshot = JSON.parse(r.snapshot) as RequestSnapshot;
  const who = (id: string | null) => (id === null ? { name: '', email: '' } : (people.get(id) ?? { name: '(deleted user)', email: '' }));
  const cells: Record<(typeof REQUEST_CSV_COLUMNS)[number], unknown> = {
    id: r.id,
    status: r.status,
    kind: r.kind,
    template_id: r.template_id,
    template_name: snapshot.template_name,
    application_name: snapshot.app.name,
    requester_id: r.requester_id,
    requester_name: who(r.requester_id).name,
    requester_email: who(r.requester_id).email,
    duration_mins: r.duration_mins,
    justification: r.justification,
    submitted_at: iso(r.created_at),
    decided_at: iso(r.decided_at),
    decided_by_name: who(r.decided_by).name,
    decided_by_email: who(r.decided_by).email,
    decision_comment: r.decision_comment,
    starts_at: iso(r.starts_at),
    expires_at: iso(r.expires_at),
    ended_at: iso(r.ended_at),
    end_reason: r.end_reason,
    ended_by_email: who(r.ended_by).email,
    revoke_reason: r.revoke_reason,
    updated_at: iso(r.updated_at),
  };
  return REQUEST_CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',') + '\r\n';
}

/**
 * The admin list's filtered set as CSV (RFC 4180, CRLF, header row; formula-like cells
 * defused by csvCell), read a keyset batch at a time so a large export never sits in memory.
 */
export async function* requestsCsv(db: Executor, dialect: DialectName, filter: AdminFilter): AsyncGenerator<string> {
  yield REQUEST_CSV_COLUMNS.join(',') + '\r\n';
  let cursor: AdminCursor | undefined;
  for (;;) {
    const rows = await listForAdmin(db, dialect, filter, { limit: BATCH, cursor });
    const batch = rows.slice(0, BATCH);
    const ids = new Set(batch.flatMap((r) => [r.requester_id, r.decided_by, r.ended_by]).filter((id): id is string => id !== null));
    const people = new Map((ids.size ? await createUsersRepo(db).peopleOf([...ids]) : []).map((u) => [u.id, u]));
    for (const r of batch) yield line(r, people);
    if (rows.length <= BATCH) return;
    const last = batch[batch.length - 1]!;
    cursor = { sort: filter.sort, order: filter.order, value: sortValueOf(last, filter.sort, filter.order), id: last.id };
  }
}
