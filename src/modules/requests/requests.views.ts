import type { Core } from '../../core.ts';
import type { Executor } from '../../db/database.ts';
import { assertThat, forbidden, notFound } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';
import { liveGroupIdsOf, mayDecide, mayRevoke, mayView } from './eligibility.ts';
import { isScheduled } from './activation.ts';
import { loadTemplateForRequest, templatesAllowingBulkDecisions } from '../templates/templates.repo.ts';
import { createRequestsRepo, type ListPage, type RequestRow } from './requests.repo.ts';
import type { AdminFilterQuery, RequestOut } from './requests.types.ts';
import { decodeCursor, encodeCursor, listForAdmin, sortValueOf, type AdminFilter } from './admin-list.ts';
import { requestsCsv } from './requests-csv.ts';
import type { RequestSnapshot } from './snapshot.ts';
import { extensionOptions } from './extension.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';
import { createAuditRepo } from '../audit/audit.repo.ts';
import { createUsersRepo, peopleQuery } from '../users/users.repo.ts';
import { canReviewBreakGlass, loadLapseGlassFields, type LapseGlassFields } from './lapse-glass-view.ts';
import { stageProgress } from './stage-views.ts';
import { createVotesRepo, type VoteRow } from './votes.repo.ts';
import { loadTimeline } from './timeline.load.ts';
import { loadRequesterAccess } from './requester-access.ts';
import type { Template } from '../templates/templates.types.ts';

/**
 * May the actor see what the requester already holds (issue 14 §3)? Admins, and those who
 * decide or revoke the template's requests (any stage, escalation included); never the
 * requester through this door (they see their own grants on their own pages).
 */
function maySeeRequesterAccess(template: Template, request: RequestRow, actor: Actor, groups: ReadonlySet<string>): boolean {
  if (actor.isAdmin) return true;
  return request.requester_id !== actor.userId && (mayDecide(template, request, actor.userId, groups) || mayRevoke(template, request, actor, groups));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface Person {
  id: string;
  email: string;
  name: string;
}

/** Loads the people a page of requests mentions in one query. */
async function peopleOf(db: Executor, rows: RequestRow[], votes: readonly VoteRow[] = []): Promise<Map<string, Person>> {
  const ids = new Set<string>(votes.map((v) => v.approver_id));
  for (const r of rows) {
    ids.add(r.requester_id);
    if (r.decided_by) ids.add(r.decided_by);
    if (r.ended_by) ids.add(r.ended_by);
    for (const n of JSON.parse(r.notified_approver_ids) as string[]) ids.add(n);
  }
  if (ids.size === 0) return new Map();
  const users = await createUsersRepo(db).peopleOf([...ids]);
  return new Map(users.map((u) => [u.id, u]));
}

function present(r: RequestRow, people: Map<string, Person>, now: number, lapseGlass: (r: RequestRow) => LapseGlassFields, votes: readonly VoteRow[] = []): RequestOut {
  const person = (id: string | null) => (id === null ? null : (people.get(id) ?? { id, email: '', name: '(deleted user)' }));
  const snapshot = JSON.parse(r.snapshot) as RequestSnapshot;
  return {
    id: r.id,
    template_id: r.template_id,
    template_name: snapshot.template_name,
    template_version: r.template_version,
    app: snapshot.app,
    requester: person(r.requester_id)!,
    status: r.status,
    kind: r.kind,
    parent_id: r.parent_id,
    duration_mins: r.duration_mins,
    justification: r.justification,
    fields: JSON.parse(r.fields) as RequestOut['fields'],
    field_labels: snapshot.field_labels ?? {},
    grants: snapshot.mappings,
    notified_approvers: (JSON.parse(r.notified_approver_ids) as string[]).map((id) => person(id)!),
    escalated: r.escalated === 1,
    escalated_at: iso(r.escalated_at),
    decided_by: person(r.decided_by),
    decided_at: iso(r.decided_at),
    decision_comment: r.decision_comment,
    approved_at: iso(r.approved_at),
    expires_at: iso(r.expires_at),
    starts_at: iso(r.starts_at),
    activated_at: iso(r.activated_at),
    scheduled: isScheduled(r, now),
    seconds_left: r.status === 'approved' && r.expires_at !== null ? Math.max(0, Math.floor((r.expires_at - now) / 1000)) : null,
    ended_at: iso(r.ended_at),
    end_reason: r.end_reason,
    ended_by: person(r.ended_by),
    revoke_reason: r.revoke_reason,
    provisioning_error: r.provisioning_error,
    ...lapseGlass(r),
    ...stageProgress(r, snapshot, votes, (id) => person(id)!),
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
  };
}

type AdminListQuery = AdminFilterQuery & { limit: number; cursor?: string };

function toAdminFilter(q: AdminFilterQuery): AdminFilter {
  return {
    statuses: q.status,
    requesterId: q.requester_id,
    templateId: q.template_id,
    approverId: q.approver_id,
    submittedFrom: q.submitted_from ? Date.parse(q.submitted_from) : undefined,
    submittedTo: q.submitted_to ? Date.parse(q.submitted_to) : undefined,
    q: q.q,
    sort: q.sort,
    order: q.order,
  };
}

/** Read side of access requests: lists, the detail view approvers decide from, and the timeline. */
export function createRequestViews(core: Pick<Core, 'db' | 'clock' | 'dialect'>) {
  const { db, clock, dialect } = core;
  const repo = createRequestsRepo(db);

  async function presentPage(rows: RequestRow[], limit: number) {
    const items = rows.slice(0, limit);
    const votes = await createVotesRepo(db).ofRequests(items.map((r) => r.id));
    const people = await peopleOf(db, items, votes);
    const now = clock.now();
    const lapseGlass = await loadLapseGlassFields(db, items, now);
    return { items: items.map((r) => present(r, people, now, lapseGlass, votes.filter((v) => v.request_id === r.id))), next_cursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  async function loadVisible(actor: Actor, id: string) {
    const request = await repo.findById(id);
    assertThat(request, notFound('access request'));
    const template = await loadTemplateForRequest(db, request.template_id, { includeDeleted: true });
    assertThat(template, notFound('access request'));
    const groups = await liveGroupIdsOf(db, actor.userId, clock.now());
    assertThat(mayView(template, request, actor, groups), notFound('access request'));
    return { request, template, groups };
  }

  return {
    present: async (row: RequestRow) => {
      const votes = await createVotesRepo(db).ofRequests([row.id]);
      const now = clock.now();
      return present(row, await peopleOf(db, [row], votes), now, await loadLapseGlassFields(db, [row], now), votes);
    },

    /** A page of rows fetched with limit + 1 (the break-glass review queue). */
    presentPage,

    listMine: async (actor: Actor, page: ListPage) => presentPage(await repo.listByRequester(actor.userId, page), page.limit),

    listInbox: async (actor: Actor, page: ListPage) => {
      const groups = await liveGroupIdsOf(db, actor.userId, clock.now());
      const presented = await presentPage(await repo.listDecidable(actor.userId, [...groups], page), page.limit);
      // The inbox offers multi-select only where the template allows it (the bulk call checks again).
      const bulk = await templatesAllowingBulkDecisions(db, presented.items.map((r) => r.template_id));
      return { ...presented, items: presented.items.map((r) => ({ ...r, allow_bulk_decisions: bulk.has(r.template_id) })) };
    },

    listDecided: async (actor: Actor, page: ListPage) => presentPage(await repo.listDecidedBy(actor.userId, page), page.limit),

    /** The admin list: every request, filtered and sorted; the cursor carries the sort it belongs to. */
    listAll: async (actor: Actor, query: AdminListQuery) => {
      assertThat(actor.isAdmin, forbidden());
      const filter = toAdminFilter(query);
      const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, filter.sort, filter.order);
      const rows = await listForAdmin(db, dialect, filter, { limit: query.limit, cursor });
      const page = await presentPage(rows, query.limit);
      const last = rows.length > query.limit ? rows[query.limit - 1]! : null;
      return { items: page.items, next_cursor: last && encodeCursor({ sort: filter.sort, order: filter.order, value: sortValueOf(last, filter.sort, filter.order), id: last.id }) };
    },

    /** The same filtered set as CSV lines (header first), fetched a batch at a time. */
    exportAll: (actor: Actor, query: AdminFilterQuery) => {
      assertThat(actor.isAdmin, forbidden());
      return requestsCsv(db, dialect, toAdminFilter(query));
    },

    /** How many pending requests the admin cannot decide (others' requests outside their inbox). */
    pendingElsewhere: async (actor: Actor) => {
      assertThat(actor.isAdmin, forbidden());
      const groups = await liveGroupIdsOf(db, actor.userId, clock.now());
      return { count: await repo.countPendingNotDecidable(actor.userId, [...groups]) };
    },

    /** The request with what an approver needs beside it: the requester's groups and the thread. */
    async detail(actor: Actor, id: string) {
      const { request, template, groups } = await loadVisible(actor, id);
      const now = clock.now();
      const votes = await createVotesRepo(db).ofRequests([id]);
      const [people, requesterGroups, comments, timeline] = await Promise.all([
        peopleOf(db, [request], votes),
        createMembershipsRepo(db).liveOrdinaryGroupsOf(request.requester_id, now),
        listComments(db, id),
        loadTimeline(db, request),
      ]);
      return {
        ...present(request, people, now, await loadLapseGlassFields(db, [request], now), votes),
        requester_groups: requesterGroups.map((g) => ({ id: g.id, name: g.name, expires_at: iso(g.expires_at) })),
        comments,
        timeline,
        can_see_requester_access: maySeeRequesterAccess(template, request, actor, groups),
        can_decide: request.status === 'pending' && mayDecide(template, request, actor.userId, groups) && !votes.some((v) => v.approver_id === actor.userId),
        can_revoke: request.status === 'approved' && mayRevoke(template, request, actor, groups),
        can_review: await canReviewBreakGlass(db, now, template, request, actor, groups),
        extension: await extensionOptions(db, request, actor, now),
        can_cancel: request.requester_id === actor.userId && (request.status === 'pending' || isScheduled(request, now)),
      };
    },

    /** Checks that the actor may see and write to the thread; returns the request. */
    loadVisible,

    listComments: async (actor: Actor, id: string) => {
      await loadVisible(actor, id);
      return listComments(db, id);
    },

    /** What the requester already holds for the request's application: 404 unless visible, 403 unless the actor decides (or is an admin). */
    async requesterAccess(actor: Actor, id: string) {
      const { request, template, groups } = await loadVisible(actor, id);
      assertThat(maySeeRequesterAccess(template, request, actor, groups), forbidden('only those who decide this request, and admins, see what the requester holds'));
      return loadRequesterAccess(db, request, clock.now());
    },

    /** Every audit event of the request, oldest first. */
    async timeline(actor: Actor, id: string) {
      await loadVisible(actor, id);
      return createAuditRepo(db).ofRequest(id);
    },
  };
}
export type RequestViews = ReturnType<typeof createRequestViews>;

async function listComments(db: Executor, requestId: string) {
  const rows = await db
    .selectFrom('access_request_comments as c')
    .innerJoin(peopleQuery(db).as('u'), 'u.id', 'c.author_id')
    .select(['c.id', 'c.body', 'c.created_at', 'u.id as author_id', 'u.email', 'u.name'])
    .where('c.request_id', '=', requestId)
    .orderBy('c.id')
    .execute();
  return rows.map((r) => ({ id: r.id, body: r.body, created_at: new Date(r.created_at).toISOString(), author: { id: r.author_id, email: r.email, name: r.name } }));
}
