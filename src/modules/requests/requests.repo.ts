import type { Selectable } from 'kysely';
import type { DialectName, Executor } from '../../db/database.ts';
import { claimRows } from '../../db/locks.ts';
import type { AccessRequestCommentsTable, AccessRequestsTable, RequestStatus } from '../../db/schema.ts';
import { neverDeleted } from '../../db/names.ts';
import type { GrantNames } from '../groups/groups.types.ts';
import { approverGroupLinksQuery, templateAppNamesQuery, templateEscalationGroupsQuery, templateNamesQuery, templateStepUpQuery } from '../templates/templates.repo.ts';
import { laterStageDecidable } from './stage-queries.ts';

export type RequestRow = Selectable<AccessRequestsTable>;
export type CommentRow = Selectable<AccessRequestCommentsTable>;

/** What a new request is made of; everything else starts empty. */
export type NewRequest = Pick<
  RequestRow,
  'id' | 'template_id' | 'template_version' | 'requester_id' | 'kind' | 'parent_id' | 'duration_mins' | 'justification' | 'fields' | 'snapshot' | 'starts_at' | 'created_at'
>;

/**
 * A new pending request row: every column said, none copied from elsewhere, so a request (or an
 * extension, or a break-glass activation) starts its approval, stages and lapse from the beginning.
 */
export function newRequestRow(request: NewRequest): RequestRow {
  return {
    ...request,
    status: 'pending',
    current_stage: 1,
    stage_escalate_at: null,
    activated_at: null,
    notified_approver_ids: '[]',
    escalated: 0,
    escalated_at: null,
    decided_by: null,
    decided_at: null,
    decision_comment: null,
    provisioning_deadline: null,
    approved_at: null,
    expires_at: null,
    grant_group_id: null,
    ended_at: null,
    end_reason: null,
    ended_by: null,
    revoke_reason: null,
    expiring_notice_at: null,
    provisioning_error: null,
    provisioning_attempt: null,
    updated_at: request.created_at,
  };
}

export interface ListPage {
  limit: number;
  cursor?: string;
  status?: RequestStatus;
}

export function createRequestsRepo(db: Executor) {
  return {
    insert: (row: RequestRow) => db.insertInto('access_requests').values(row).execute(),

    findById: (id: string) => db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst(),

    /** A request's status, or undefined when there is no such request. */
    statusOf: async (id: string): Promise<RequestStatus | undefined> =>
      (await db.selectFrom('access_requests').select('status').where('id', '=', id).executeTakeFirst())?.status,

    /** The few fields that say who may see a request (the live stream's audience). */
    findAudienceFields: (id: string) =>
      db
        .selectFrom('access_requests')
        .select(['id', 'template_id', 'requester_id', 'decided_by', 'escalated', 'notified_approver_ids', 'current_stage'])
        .where('id', '=', id)
        .executeTakeFirst(),

    findOpen: (templateId: string, requesterId: string) =>
      db
        .selectFrom('access_requests')
        .select('id')
        .where('template_id', '=', templateId)
        .where('requester_id', '=', requesterId)
        .where('status', 'in', ['pending', 'provisioning'])
        .executeTakeFirst(),

    /**
     * Moves a request from the status the caller read to the next one. Returns false
     * when another writer got there first: the caller answers 409 (DESIGN rule 5).
     */
    async transition(id: string, from: RequestStatus, patch: Partial<RequestRow> & { status: RequestStatus }, atStage?: number): Promise<boolean> {
      let q = db.updateTable('access_requests').set(patch).where('id', '=', id).where('status', '=', from);
      // A decision on a pending request also requires the stage it was taken in (approval stages).
      if (atStage !== undefined) q = q.where('current_stage', '=', atStage);
      const result = await q.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Moves a pending request from one approval stage to the next; false when it is no longer pending in that stage. */
    async advanceStage(id: string, fromStage: number, patch: Partial<RequestRow>): Promise<boolean> {
      const result = await db.updateTable('access_requests').set(patch).where('id', '=', id).where('status', '=', 'pending').where('current_stage', '=', fromStage).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * transition() for many requests in one statement: moves those still in `from` and
     * returns their ids; the others were changed by a concurrent writer first.
     */
    async transitionMany(ids: readonly string[], from: RequestStatus, patch: Partial<RequestRow> & { status: RequestStatus }, only: { dueBy?: number } = {}): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      let q = db.updateTable('access_requests').set(patch).where('id', 'in', [...ids]).where('status', '=', from);
      if (only.dueBy !== undefined) q = q.where('expires_at', '<=', only.dueBy);
      const rows = await q.returning('id').execute();
      return new Set(rows.map((r) => r.id));
    },

    /** The approvers told about a request so far (a JSON list); the fan-out adds to it. */
    setNotifiedApprovers: (id: string, notified: string): Promise<unknown> =>
      db.updateTable('access_requests').set({ notified_approver_ids: notified }).where('id', '=', id).execute(),

    countSubmittedSince: async (requesterId: string, since: number) =>
      Number(
        (
          await db
            .selectFrom('access_requests')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('requester_id', '=', requesterId)
            .where('created_at', '>', since)
            .executeTakeFirstOrThrow()
        ).n,
      ),

    /** Newest first. */
    listByRequester: (requesterId: string, page: ListPage) => {
      let q = db.selectFrom('access_requests').selectAll().where('requester_id', '=', requesterId).orderBy('id', 'desc').limit(page.limit + 1);
      if (page.cursor) q = q.where('id', '<', page.cursor);
      if (page.status) q = q.where('status', '=', page.status);
      return q.execute();
    },

    /** The extension requests of a grant (its timeline tells them), oldest first. */
    extensionIdsOf: async (parentId: string): Promise<string[]> =>
      (await db.selectFrom('access_requests').select('id').where('parent_id', '=', parentId).orderBy('id').execute()).map((r) => r.id),

    /** A user's approved grants, active or scheduled, soonest end first (what an approver sees beside a request). */
    liveGrantsOf: (requesterId: string) =>
      db.selectFrom('access_requests').selectAll().where('requester_id', '=', requesterId).where('status', '=', 'approved').orderBy('expires_at').orderBy('id').execute(),

    listDecidedBy: (userId: string, page: ListPage) => {
      let q = db
        .selectFrom('access_requests')
        .selectAll()
        // An approval that did not decide the request (a stage's quorum, issue 12 §1) counts as the approver's decision here too.
        .where((eb) => eb.or([eb('decided_by', '=', userId), eb.exists(eb.selectFrom('access_request_votes as v').select('v.request_id').whereRef('v.request_id', '=', 'access_requests.id').where('v.approver_id', '=', userId))]))
        .orderBy('id', 'desc')
        .limit(page.limit + 1);
      if (page.cursor) q = q.where('id', '<', page.cursor);
      if (page.status) q = q.where('status', '=', page.status);
      return q.execute();
    },

    /**
     * Pending requests a user may decide, oldest first: on an open template, on a
     * template whose approver groups include one of the user's groups, or escalated to
     * one of them. Never the user's own.
     */
    listDecidable: (userId: string, liveGroupIds: string[], page: { limit: number; cursor?: string }) => {
      let q = decidableQuery(db, userId, liveGroupIds).orderBy('r.id', 'asc').limit(page.limit + 1);
      if (page.cursor) q = q.where('r.id', '>', page.cursor);
      return q.execute();
    },

    /** Others' pending requests the user cannot decide: what an admin's inbox does not show (issue 14 §1). */
    countPendingNotDecidable: async (userId: string, liveGroupIds: string[]) =>
      Number(
        (
          await db
            .selectFrom('access_requests')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('status', '=', 'pending')
            .where('requester_id', '!=', userId)
            .where('id', 'not in', decidableQuery(db, userId, liveGroupIds).clearSelect().select('r.id'))
            .executeTakeFirstOrThrow()
        ).n,
      ),

    /** Approved requests whose time is up, oldest expiry first, claimed for this transaction. */
    /** When the next approved grant ends (the status index answers it), or null when none is live. */
    nextExpiry: async (): Promise<number | null> => {
      const row = await db.selectFrom('access_requests').select((eb) => eb.fn.min('expires_at').as('at')).where('status', '=', 'approved').executeTakeFirst();
      return row?.at === null || row?.at === undefined ? null : Number(row.at);
    },

    claimDueForExpiry: (dialect: DialectName, at: number, limit: number) =>
      claimRows(
        db
          .selectFrom('access_requests')
          .selectAll()
          .where('status', '=', 'approved')
          .where('expires_at', '<=', at)
          // A scheduled grant is announced (`activated`) before it expires: its expiry waits for the activation task.
          .where((eb) => eb.or([eb('activated_at', 'is not', null), eb('starts_at', 'is', null)]))
          .orderBy('expires_at')
          .limit(limit),
        dialect,
      ).execute(),

    /** A requester's waiting requests and live or scheduled grants on some templates (the catalogue's state). */
    listOpenOrLive: (requesterId: string, templateIds: readonly string[]) =>
      templateIds.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('access_requests')
            .selectAll()
            .where('requester_id', '=', requesterId)
            .where('template_id', 'in', [...templateIds])
            .where('status', 'in', ['pending', 'provisioning', 'approved'])
            .orderBy('id')
            .execute(),

    /** Each of these requests' requester and its template's step-up minutes (deleted templates included), in one statement. */
    listRequesterStepUp: (ids: readonly string[]) =>
      ids.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('access_requests as r')
            .innerJoin(templateStepUpQuery(db).as('t'), 't.id', 'r.template_id')
            .select(['r.requester_id', 't.step_up_minutes'])
            .where('r.id', 'in', [...ids])
            .execute(),

    insertComment: (row: CommentRow) => db.insertInto('access_request_comments').values(row).execute(),

    /** Approved requests made from a template, or granting a mapping: revoked when that goes away. */
    listApprovedByTemplate: (templateId: string) =>
      db.selectFrom('access_requests').selectAll().where('template_id', '=', templateId).where('status', '=', 'approved').execute(),
  };
}
export type RequestsRepo = ReturnType<typeof createRequestsRepo>;

/**
 * Pending requests a user may decide: on an open template, on a template whose approver
 * groups include one of the user's groups, or escalated to one of them. Never the user's own.
 */
function decidableQuery(db: Executor, userId: string, liveGroupIds: string[]) {
  const groups = liveGroupIds.length ? liveGroupIds : ['-'];
  return db
    .selectFrom('access_requests as r')
    .innerJoin(templateEscalationGroupsQuery(db).as('t'), 't.id', 'r.template_id')
    .selectAll('r')
    .where('r.status', '=', 'pending')
    .where('r.requester_id', '!=', userId)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('r.current_stage', '=', 1),
          eb.or([
            eb.not(eb.exists(approverGroupLinksQuery(db).where('template_id', '=', eb.ref('r.template_id')))),
            eb.exists(approverGroupLinksQuery(db).where('template_id', '=', eb.ref('r.template_id')).where('group_id', 'in', groups)),
            eb.and([eb('r.escalated', '=', 1), eb('t.escalation_group_id', 'in', groups)]),
          ]),
        ]),
        // Stages 2..n: the stage the request waits in decides (issue 12 §1).
        eb.and([eb('r.current_stage', '>', 1), laterStageDecidable(db, eb, groups)]),
      ]),
    )
    // One person counts once per request: an approver who approved has nothing left to decide.
    .where((eb) => eb.not(eb.exists(eb.selectFrom('access_request_votes as v').select('v.request_id').whereRef('v.request_id', '=', 'r.id').where('v.approver_id', '=', userId))));
}

/** Every request's id, named by its template (a request has no name of its own): the audit log's names. */
export const requestNamesQuery = (db: Executor) =>
  db
    .selectFrom('access_requests')
    .select((eb) => ['id', eb.selectFrom(templateNamesQuery(db).as('t')).select('t.name').whereRef('t.id', '=', 'access_requests.template_id').as('name'), neverDeleted()])
    .$narrowType<{ name: string }>();

/** The requests behind grant groups, named by their template and application (deleted ones too). */
export const grantNamesOf = async (db: Executor, requestIds: readonly string[]): Promise<GrantNames[]> =>
  requestIds.length
    ? db
        .selectFrom('access_requests as r')
        .innerJoin(templateAppNamesQuery(db).as('t'), 't.template_id', 'r.template_id')
        .select(['r.id as request_id', 't.template_id', 't.template_name', 't.application_id', 't.application_name'])
        .where('r.id', 'in', [...requestIds])
        .execute()
    : [];
