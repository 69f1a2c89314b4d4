import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import type { AccessRequestTemplatesTable } from '../../db/schema.ts';
import { applicationNamesQuery, createApplicationsRepo, liveApplicationIdsQuery } from '../applications/applications.repo.ts';
import { createGroupsRepo } from '../groups/groups.repo.ts';
import { createMembershipsRepo, liveGroupIdsOfQuery } from '../groups/memberships.repo.ts';
import { createMappingsRepo } from '../mappings/mappings.repo.ts';
import type { CustomFieldDefinition } from './custom-fields.ts';
import { lapseGlassFromRow, lapseGlassToRow } from './lapse-glass.types.ts';
import type { Template } from './templates.types.ts';
import type { TemplateStage } from './template-stages.ts';

export type TemplateRow = Selectable<AccessRequestTemplatesTable>;

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);


function toRow(t: Template): TemplateRow {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    enabled: t.enabled ? 1 : 0,
    app_id: t.app_id,
    allowed_durations: JSON.stringify(t.allowed_durations),
    require_justification: t.require_justification ? 1 : 0,
    auto_approve: t.auto_approve ? 1 : 0,
    notification_policy: t.notification_policy,
    notification_count: t.notification_count,
    escalation_after_mins: t.escalation_after_mins,
    escalation_group_id: t.escalation_group_id,
    custom_fields: JSON.stringify(t.custom_fields),
    trigger_script_id: t.trigger?.script_id ?? null,
    trigger_failure_mode: t.trigger?.failure_mode ?? 'ignore',
    trigger_max_retries: t.trigger?.max_retries ?? 0,
    ...lapseGlassToRow(t),
    quorum: t.stages[0]?.quorum ?? 1,
    allow_extension: t.allow_extension ? 1 : 0,
    extension_requires_approval: t.extension_requires_approval ? 1 : 0,
    max_total_mins: t.max_total_mins,
    max_start_delay_mins: t.max_start_delay_mins,
    allow_bulk_decisions: t.allow_bulk_decisions ? 1 : 0,
    step_up_minutes: t.step_up_minutes,
    version: t.version,
    created_at: t.created_at,
    updated_at: t.updated_at,
    deleted_at: t.deleted_at,
  };
}

interface Links {
  approver_group_ids: string[];
  requester_group_ids: string[];
  mapping_ids: string[];
  /** Stages 2..n (stage 1 is the row's flat columns). */
  laterStages: TemplateStage[];
}

function fromRow(row: TemplateRow, links: Links): Template {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled === 1,
    app_id: row.app_id,
    approver_group_ids: links.approver_group_ids,
    requester_group_ids: links.requester_group_ids,
    mapping_ids: links.mapping_ids,
    allowed_durations: JSON.parse(row.allowed_durations) as number[],
    require_justification: row.require_justification === 1,
    auto_approve: row.auto_approve === 1,
    notification_policy: row.notification_policy,
    notification_count: row.notification_count,
    escalation_after_mins: row.escalation_after_mins,
    escalation_group_id: row.escalation_group_id,
    custom_fields: JSON.parse(row.custom_fields) as CustomFieldDefinition[],
    trigger:
      row.trigger_script_id === null ? null : { script_id: row.trigger_script_id, failure_mode: row.trigger_failure_mode, max_retries: row.trigger_max_retries },
    ...lapseGlassFromRow(row),
    stages: [
      {
        approval: links.approver_group_ids.length === 0 ? 'open' : 'groups',
        approver_group_ids: links.approver_group_ids,
        quorum: row.quorum,
        escalation_after_mins: row.escalation_after_mins,
        escalation_group_id: row.escalation_group_id,
      },
      ...links.laterStages,
    ],
    allow_extension: row.allow_extension === 1,
    extension_requires_approval: row.extension_requires_approval === 1,
    max_total_mins: row.max_total_mins,
    max_start_delay_mins: row.max_start_delay_mins,
    allow_bulk_decisions: row.allow_bulk_decisions === 1,
    step_up_minutes: row.step_up_minutes,
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

export function createTemplatesRepo(db: Executor) {
  const live = () => db.selectFrom('access_request_templates').selectAll().where('deleted_at', 'is', null);

  /** Groups and mappings of a whole page in two queries, id lists sorted. */
  async function withLinks(rows: TemplateRow[]): Promise<Template[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [groups, mappings, stages, stageGroups] = await Promise.all([
      db.selectFrom('template_groups').select(['template_id', 'group_id', 'role']).where('template_id', 'in', ids).execute(),
      db.selectFrom('template_mappings').select(['template_id', 'mapping_id']).where('template_id', 'in', ids).execute(),
      db.selectFrom('template_stages').selectAll().where('template_id', 'in', ids).orderBy('position').execute(),
      db.selectFrom('template_stage_groups').selectAll().where('template_id', 'in', ids).execute(),
    ]);
    return rows.map((row) => {
      const ofRole = (role: 'approver' | 'requester') =>
        groups
          .filter((g) => g.template_id === row.id && g.role === role)
          .map((g) => g.group_id)
          .sort(byId);
      const mappingIds = mappings
        .filter((m) => m.template_id === row.id)
        .map((m) => m.mapping_id)
        .sort(byId);
      const laterStages = stages
        .filter((st) => st.template_id === row.id)
        .map((st): TemplateStage => {
          const approvers = stageGroups.filter((g) => g.template_id === row.id && g.position === st.position).map((g) => g.group_id).sort(byId);
          return { approval: approvers.length === 0 ? 'open' : 'groups', approver_group_ids: approvers, quorum: st.quorum, escalation_after_mins: st.escalation_after_mins, escalation_group_id: st.escalation_group_id };
        });
      return fromRow(row, { approver_group_ids: ofRole('approver'), requester_group_ids: ofRole('requester'), mapping_ids: mappingIds, laterStages });
    });
  }

  async function insertLinks(t: Template): Promise<void> {
    const groups = [
      ...t.approver_group_ids.map((group_id) => ({ template_id: t.id, group_id, role: 'approver' as const })),
      ...t.requester_group_ids.map((group_id) => ({ template_id: t.id, group_id, role: 'requester' as const })),
    ];
    if (groups.length) await db.insertInto('template_groups').values(groups).execute();
    if (t.mapping_ids.length) await db.insertInto('template_mappings').values(t.mapping_ids.map((mapping_id) => ({ template_id: t.id, mapping_id }))).execute();
    const later = t.stages.slice(1).map((stage, i) => ({ stage, position: i + 2 }));
    if (later.length) {
      await db
        .insertInto('template_stages')
        .values(later.map(({ stage, position }) => ({ template_id: t.id, position, quorum: stage.quorum, escalation_after_mins: stage.escalation_after_mins, escalation_group_id: stage.escalation_group_id })))
        .execute();
      const stageGroups = later.flatMap(({ stage, position }) => stage.approver_group_ids.map((group_id) => ({ template_id: t.id, position, group_id })));
      if (stageGroups.length) await db.insertInto('template_stage_groups').values(stageGroups).execute();
    }
  }

  async function deleteLinks(id: string): Promise<void> {
    await db.deleteFrom('template_groups').where('template_id', '=', id).execute();
    await db.deleteFrom('template_mappings').where('template_id', '=', id).execute();
    await db.deleteFrom('template_stage_groups').where('template_id', '=', id).execute();
    await db.deleteFrom('template_stages').where('template_id', '=', id).execute();
  }

  return {
    withLinks,
    /** Of these groups, those with at least one live member who is an active user (the expiry rule of the claims). */
    groupsWithActiveMembers: (groupIds: readonly string[], at: number) => createMembershipsRepo(db).groupsWithActiveMembers(groupIds, at),

    /** Whether any template is live (the first-run checklist). */
    anyLive: async (): Promise<boolean> =>
      (await db.selectFrom('access_request_templates').select('id').where('deleted_at', 'is', null).limit(1).executeTakeFirst()) !== undefined,
    /** Whether the template exists and is not deleted, without reading its links. */
    isLive: async (id: string): Promise<boolean> =>
      Boolean(await db.selectFrom('access_request_templates').select('id').where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()),
    /** Templates (deleted ones included) that name the group as approver, requester or escalation group, by name. */
    listUsingGroup: (groupId: string) =>
      db
        .selectFrom('access_request_templates')
        .select(['id', 'name'])
        .where((eb) =>
          eb.or([
            eb('escalation_group_id', '=', groupId),
            eb('id', 'in', eb.selectFrom('template_groups').select('template_id').where('group_id', '=', groupId)),
            eb('id', 'in', eb.selectFrom('template_stage_groups').select('template_id').where('group_id', '=', groupId)),
            eb('id', 'in', eb.selectFrom('template_stages').select('template_id').where('escalation_group_id', '=', groupId)),
          ]),
        )
        .orderBy('name')
        .execute(),
    /** Live templates whose trigger task is this script, by name. */
    listUsingScript: (scriptId: string) =>
      db.selectFrom('access_request_templates').select(['id', 'name']).where('trigger_script_id', '=', scriptId).where('deleted_at', 'is', null).orderBy('name').execute(),

    findLiveById: async (id: string) => (await withLinks(await live().where('id', '=', id).execute()))[0],
    /** Deleted ones too: requests made from a deleted template still name it. */
    findAnyById: async (id: string) =>
      (await withLinks(await db.selectFrom('access_request_templates').selectAll().where('id', '=', id).execute()))[0],

    list: async (opts: { limit: number; cursor?: string; enabled?: boolean; appId?: string; text?: string }) => {
      let q = live().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      const text = opts.text;
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('name', text, 'contains'), matchesIgnoringCase('description', text, 'contains')]));
      if (opts.enabled !== undefined) q = q.where('enabled', '=', opts.enabled ? 1 : 0);
      if (opts.appId) q = q.where('app_id', '=', opts.appId);
      return withLinks(await q.execute());
    },

    /**
     * Enabled templates of live applications that the user may request: those without
     * requester groups, and those naming a group the user is a live member of at `at`.
     */
    listRequestable: async (userId: string, at: number, opts: { limit: number; cursor?: string }) => {
      let q = db
        .selectFrom('access_request_templates as t')
        .innerJoin(liveApplicationIdsQuery(db).as('a'), 'a.id', 't.app_id')
        .selectAll('t')
        .where('t.deleted_at', 'is', null)
        .where('t.enabled', '=', 1)
        .where((eb) => {
          const requesterLinks = () => eb.selectFrom('template_groups as r').select('r.group_id').whereRef('r.template_id', '=', 't.id').where('r.role', '=', 'requester');
          return eb.or([eb.not(eb.exists(requesterLinks())), eb.exists(requesterLinks().where('r.group_id', 'in', liveGroupIdsOfQuery(db, userId, at)))]);
        })
        .orderBy('t.id')
        .limit(opts.limit + 1);
      if (opts.cursor) q = q.where('t.id', '>', opts.cursor);
      return withLinks(await q.execute());
    },

    insert: async (t: Template) => {
      await db.insertInto('access_request_templates').values(toRow(t)).execute();
      await insertLinks(t);
    },

    /** Rewrites the row and its links: a PATCH replaces lists whole. */
    replace: async (t: Template) => {
      const { id: _id, created_at: _created, ...row } = toRow(t);
      await db.updateTable('access_request_templates').set(row).where('id', '=', t.id).execute();
      await deleteLinks(t.id);
      await insertLinks(t);
    },

    /**
     * Soft delete: the row and its group and mapping links stay, because requests made
     * from the template are still decided and revoked under its policy, and audit
     * events point at it. Every read here ignores deleted templates.
     */
    softDelete: (id: string, at: number) =>
      db.updateTable('access_request_templates').set({ deleted_at: at, updated_at: at }).where('id', '=', id).where('deleted_at', 'is', null).execute(),

    /**
     * A deleted template lets go of its groups, mappings and escalation group, so those can
     * be deleted later (its ended requests keep their snapshot and audit trail).
     */
    releaseLinks: async (id: string) => {
      await db.deleteFrom('template_groups').where('template_id', '=', id).execute();
      await db.deleteFrom('template_mappings').where('template_id', '=', id).execute();
      await db.updateTable('access_request_templates').set({ escalation_group_id: null }).where('id', '=', id).execute();
      await db.deleteFrom('template_stage_groups').where('template_id', '=', id).execute();
      await db.updateTable('template_stages').set({ escalation_group_id: null }).where('template_id', '=', id).execute();
    },

    // Lookups of the rows a template points at, for validation and for display.
    // Their owners' repos answer: the applications, mappings and groups modules.
    findLiveApplication: (id: string) => createApplicationsRepo(db).findLiveName(id),
    applicationNames: (ids: string[]) => createApplicationsRepo(db).namesOf(ids),
    findMappings: (ids: string[]) => createMappingsRepo(db).appIdsOf(ids),
    findGroups: (ids: string[]) => createGroupsRepo(db).findAnyByIds(ids),
  };
}
export type TemplatesRepo = ReturnType<typeof createTemplatesRepo>;

/**
 * A live template as the requests engine needs it: lists parsed, flags as booleans,
 * with approver_group_ids, requester_group_ids and mapping_ids (sorted). Undefined
 * when there is no such template or it has been deleted.
 */
export async function loadTemplateForRequest(executor: Executor, id: string, opts: { includeDeleted?: boolean } = {}): Promise<Template | undefined> {
  const repo = createTemplatesRepo(executor);
  return opts.includeDeleted ? repo.findAnyById(id) : repo.findLiveById(id);
}

// Query fragments for the requests module's one-statement reads that need a template beside a
// request (the approver's inbox, escalation, what a retired application or mapping ends): the
// caller embeds the subquery, so the SQL stays one statement while only this module names the
// templates' tables.

/** Templates that escalate: their id, escalation group and delay (minutes). */
export const escalatingTemplatesQuery = (db: Executor) =>
  db
    .selectFrom('access_request_templates')
    .select(['id', 'escalation_group_id', 'escalation_after_mins'])
    .where('escalation_group_id', 'is not', null)
    .where('escalation_after_mins', 'is not', null);

/** Every template's id and escalation group (null when it has none), deleted ones included. */
export const templateEscalationGroupsQuery = (db: Executor) => db.selectFrom('access_request_templates').select(['id', 'escalation_group_id']);

/** Every template's id and step-up minutes (null: off), deleted ones included. */
export const templateStepUpQuery = (db: Executor) => db.selectFrom('access_request_templates').select(['id', 'step_up_minutes']);

/** The approver groups of every template, as (template_id, group_id) rows. */
export const approverGroupLinksQuery = (db: Executor) => db.selectFrom('template_groups').select(['template_id', 'group_id']).where('role', '=', 'approver');

/** The approver groups of stages 2..n, as (template_id, position, group_id) rows. */
export const stageApproverLinksQuery = (db: Executor) => db.selectFrom('template_stage_groups').select(['template_id', 'position', 'group_id']);

/** Stages 2..n of every template: (template_id, position, escalation_group_id, escalation_after_mins). */
export const laterStagesQuery = (db: Executor) => db.selectFrom('template_stages').select(['template_id', 'position', 'escalation_group_id', 'escalation_after_mins']);

/** Of these templates, the ids of those (deleted ones included) whose requests may be decided in bulk. */
export async function templatesAllowingBulkDecisions(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('access_request_templates').select('id').where('id', 'in', [...new Set(ids)]).where('allow_bulk_decisions', '=', 1).execute();
  return new Set(rows.map((r) => r.id));
}

/** The ids of the templates (deleted ones included) made for an application. */
export const templateIdsOfAppQuery = (db: Executor, appId: string) => db.selectFrom('access_request_templates').select('id').where('app_id', '=', appId);

/** The ids of the templates that grant a mapping. */
export const templateIdsGrantingQuery = (db: Executor, mappingId: string) =>
  db.selectFrom('template_mappings').select('template_id').where('mapping_id', '=', mappingId);

/** The live templates that grant any of these mappings, by name. */
export function liveTemplatesGranting(db: Executor, mappingIds: readonly string[]) {
  return db
    .selectFrom('template_mappings as tm')
    .innerJoin('access_request_templates as t', 't.id', 'tm.template_id')
    .select(['t.id', 't.name'])
    .distinct()
    .where('tm.mapping_id', 'in', [...mappingIds])
    .where('t.deleted_at', 'is', null)
    .orderBy('t.name')
    .execute();
}

/** Every template's id and name, deleted ones included: the audit log's names, and a request's. */
export const templateNamesQuery = (db: Executor) => db.selectFrom('access_request_templates').select(['id', 'name', 'deleted_at']);

/** Every template's id and name with its application's id and name, deleted ones included: what a grant is called. */
export const templateAppNamesQuery = (db: Executor) =>
  db
    .selectFrom('access_request_templates as t')
    .innerJoin(applicationNamesQuery(db).as('a'), 'a.id', 't.app_id')
    .select(['t.id as template_id', 't.name as template_name', 'a.id as application_id', 'a.name as application_name']);

/** The approver groups of every undeleted template, stage 1 and stages 2..n alike: who counts as an approver for the MFA policy. */
export const approverGroupIdsQuery = (db: Executor) =>
  db
    .selectFrom('template_groups as tg')
    .innerJoin('access_request_templates as t', 't.id', 'tg.template_id')
    .select('tg.group_id')
    .where('tg.role', '=', 'approver')
    .where('t.deleted_at', 'is', null)
    .union(db.selectFrom('template_stage_groups as sg').innerJoin('access_request_templates as t', 't.id', 'sg.template_id').select('sg.group_id').where('t.deleted_at', 'is', null));
