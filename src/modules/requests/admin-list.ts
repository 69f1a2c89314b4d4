import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { DialectName, Executor } from '../../db/database.ts';
import type { DB, RequestStatus } from '../../db/schema.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import { invalidField } from '../../http/errors.ts';
import { peopleQuery } from '../users/users.repo.ts';
import type { RequestRow } from './requests.repo.ts';

/**
 * The admin "Requests" list (issue 14 §1): every request, filtered, searched and sorted,
 * paged by a keyset cursor that carries the sort it was made for.
 */
export type AdminSort = 'submitted' | 'updated' | 'ends';
export type SortOrder = 'asc' | 'desc';

export interface AdminFilter {
  statuses?: readonly RequestStatus[];
  requesterId?: string;
  templateId?: string;
  /** Someone who decided the request or voted on it. */
  approverId?: string;
  /** Submitted at or after / at or before (ms). */
  submittedFrom?: number;
  submittedTo?: number;
  /** Part of the justification, the requester's email or name, the template or application name. */
  q?: string;
  sort: AdminSort;
  order: SortOrder;
}

/** Where the next page starts: the last row's sort value and id, and the sort they belong to. */
export interface AdminCursor {
  sort: AdminSort;
  order: SortOrder;
  value: number;
  id: string;
}

/**
 * A request without an end (pending, denied…) sorts after every dated one in either order, so
 * "ends soonest" and "ends latest" both begin with real ends. The sentinel stands in for null
 * in the sort key and in the cursor, which keeps the keyset comparison a plain one.
 */
const NO_END: Record<SortOrder, number> = { asc: 8_640_000_000_000_000, desc: -1 };

const COLUMN: Record<AdminSort, 'created_at' | 'updated_at' | 'expires_at'> = { submitted: 'created_at', updated: 'updated_at', ends: 'expires_at' };

/** The row's value of the sort key, as the cursor keeps it. */
export function sortValueOf(row: RequestRow, sort: AdminSort, order: SortOrder): number {
  const v = row[COLUMN[sort]];
  return v === null ? NO_END[order] : Number(v);
}

export function encodeCursor(c: AdminCursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.order, c.value, c.id])).toString('base64url');
}

/** Reads a cursor; one made for another sort or order is refused (its position means nothing here). */
export function decodeCursor(text: string, sort: AdminSort, order: SortOrder): AdminCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidField('cursor', 'must be a next_cursor from an earlier page');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || typeof parsed[2] !== 'number' || typeof parsed[3] !== 'string') {
    throw invalidField('cursor', 'must be a next_cursor from an earlier page');
  }
  if (parsed[0] !== sort || parsed[1] !== order) throw invalidField('cursor', `was made for sort=${String(parsed[0])}&order=${String(parsed[1])}; start again from the first page`);
  return { sort, order, value: parsed[2] as number, id: parsed[3] as string };
}

/** The template and application names as the request recorded them (its snapshot): what the list shows. */
function snapshotText(dialect: DialectName, path: 'template' | 'app') {
  if (dialect === 'postgres') return path === 'template' ? sql<string>`(snapshot::json ->> 'template_name')` : sql<string>`(snapshot::json -> 'app' ->> 'name')`;
  return path === 'template' ? sql<string>`json_extract(snapshot, '$.template_name')` : sql<string>`json_extract(snapshot, '$.app.name')`;
}

/** One page (limit + 1 rows) of the filtered list, from `cursor` on. */
export function listForAdmin(db: Executor, dialect: DialectName, filter: AdminFilter, page: { limit: number; cursor?: AdminCursor }): Promise<RequestRow[]> {
  // A derived table names the snapshot's texts as columns, so the search can match them like any column.
  const named = db
    .selectFrom('access_requests')
    .selectAll()
    .select([snapshotText(dialect, 'template').as('search_template_name'), snapshotText(dialect, 'app').as('search_app_name')])
    .as('r');
  const { order, sort } = filter;
  const key: Expression<number> = sort === 'ends' ? sql<number>`coalesce(r.expires_at, ${NO_END[order]})` : sql.ref<number>(`r.${COLUMN[sort]}`);
  let q = db
    .selectFrom(named)
    .selectAll()
    .where((eb) => eb.and(conditions(db, eb, filter)));
  if (page.cursor) {
    const { value, id } = page.cursor;
    const after = order === 'asc' ? '>' : '<';
    q = q.where((eb) => eb.or([eb(key, after, value), eb.and([eb(key, '=', value), eb('r.id', after, id)])]));
  }
  const rows = q.orderBy(key, order).orderBy('r.id', order).limit(page.limit + 1).execute();
  return rows as Promise<RequestRow[]>;
}

type Row = RequestRow & { search_template_name: string; search_app_name: string };

function conditions(db: Executor, eb: ExpressionBuilder<{ r: Row } & DB, 'r'>, f: AdminFilter): Expression<SqlBool>[] {
  const where: Expression<SqlBool>[] = [];
  if (f.statuses?.length) where.push(eb('r.status', 'in', [...f.statuses]));
  if (f.requesterId) where.push(eb('r.requester_id', '=', f.requesterId));
  if (f.templateId) where.push(eb('r.template_id', '=', f.templateId));
  if (f.submittedFrom !== undefined) where.push(eb('r.created_at', '>=', f.submittedFrom));
  if (f.submittedTo !== undefined) where.push(eb('r.created_at', '<=', f.submittedTo));
  if (f.approverId) {
    // An approval that did not decide the request (a stage's quorum) counts too, as in the approver's "decided" list.
    const voted = eb.exists(eb.selectFrom('access_request_votes as v').select('v.request_id').whereRef('v.request_id', '=', 'r.id').where('v.approver_id', '=', f.approverId));
    where.push(eb.or([eb('r.decided_by', '=', f.approverId), voted]));
  }
  if (f.q) {
    const text = f.q;
    const requester = eb
      .selectFrom(peopleQuery(db).as('u'))
      .select('u.id')
      .whereRef('u.id', '=', 'r.requester_id')
      .where((p) => p.or([matchesIgnoringCase('u.email', text, 'contains'), matchesIgnoringCase('u.name', text, 'contains')]));
    where.push(
      eb.or([
        matchesIgnoringCase('r.justification', text, 'contains'),
        matchesIgnoringCase('r.search_template_name', text, 'contains'),
        matchesIgnoringCase('r.search_app_name', text, 'contains'),
        eb.exists(requester),
      ]),
    );
  }
  return where;
}
