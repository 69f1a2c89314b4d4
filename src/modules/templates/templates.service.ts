import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import { assertThat, badRequest, forbidden, notFound, type FieldError } from '../../http/errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { newId } from '../../security/ids.ts';
import { canonicalJson } from '../audit/index.ts';
import type { Actor } from '../../http/actor.ts';
import { isReservedGroupName } from '../groups/index.ts';
import { lockLiveScript } from '../scripts/scripts.repo.ts';
import { normalizeCustomFields } from './custom-fields.ts';
import { approvalErrors, crossAttributeErrors } from './template-rules.ts';
import { resolveStages, stageGroupRefs, type ResolvedStages } from './template-stages.ts';
import { extensionDefaults } from './template-extension-rules.ts';
import { assertScheduleAllowed } from './template-schedule.ts';
import { assertVersionMatches, type ExpectedVersion } from './template-etag.ts';
import { createTemplatesRepo, type TemplatesRepo } from './templates.repo.ts';
import {
  approvalOf,
  auditFields,
  settingsOf,
  type ApprovalMode,
  type CreateTemplateIn,
  type MyTemplateState,
  type Ref,
  type Template,
  type TemplateSettings,
  type TemplateWarning,
  type UpdateTemplateIn,
} from './templates.types.ts';

/**
 * Where the requests engine plugs in. Runs inside the transaction that deletes a
 * template, or that disables an enabled one, after the change and its audit event are
 * written: revoke the live grants the template backs and close its open requests
 * there, so the template and its grants go together or not at all.
 */
export interface TemplateHooks {
  templateRetired?(trx: Tx, template: Template, reason: 'deleted' | 'disabled', actor: Actor): Promise<void>;
  /** The user's pending request or live/scheduled access per template (the requests module knows; templates sits below it). */
  requesterStates?(userId: string, templateIds: readonly string[]): Promise<ReadonlyMap<string, MyTemplateState>>;
}

export interface RequestableTemplate {
  template: Template;
  app: Ref;
  groupNames: ReadonlyMap<string, string>;
  mine: MyTemplateState | null;
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One canonical form, so equal settings compare equal and lists read the same everywhere. */
function normalize(s: TemplateSettings): TemplateSettings {
  return {
    ...s,
    mapping_ids: [...s.mapping_ids].sort(byId),
    allowed_durations: [...s.allowed_durations].sort((a, b) => a - b),
    approver_group_ids: [...s.approver_group_ids].sort(byId),
    requester_group_ids: [...s.requester_group_ids].sort(byId),
    custom_fields: normalizeCustomFields(s.custom_fields),
    trigger: s.trigger && { ...s.trigger },
    stages: s.stages.map((stage) => ({ ...stage, approver_group_ids: [...stage.approver_group_ids].sort(byId) })),
    ...extensionDefaults(s),
  };
}

const validationFailed = (errors: FieldError[]) => badRequest('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);

/** The application must be live, each mapping must belong to it, each group must be an ordinary one, and a trigger's script must be live. */
async function referenceErrors(repo: TemplatesRepo, s: TemplateSettings, scriptIsLive: (id: string) => Promise<boolean>): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const app = await repo.findLiveApplication(s.app_id);
  if (!app) errors.push({ field: 'app_id', message: 'no live application has this id' });

  const mappings = new Map((await repo.findMappings(s.mapping_ids)).map((m) => [m.id, m.app_id]));
  s.mapping_ids.forEach((id, i) => {
    const appId = mappings.get(id);
    if (appId === undefined) errors.push({ field: `mapping_ids.${i}`, message: `no mapping has the id ${id}` });
    else if (app && appId !== app.id) errors.push({ field: `mapping_ids.${i}`, message: `mapping ${id} belongs to another application` });
  });

  const referenced = [...s.approver_group_ids, ...s.requester_group_ids, ...(s.escalation_group_id ? [s.escalation_group_id] : []), ...stageGroupRefs(s.stages).map((r) => r.id)];
  const groups = new Map((await repo.findGroups([...new Set(referenced)])).map((g) => [g.id, g]));
  const checkGroup = (field: string, id: string) => {
    const group = groups.get(id);
    if (!group) errors.push({ field, message: `no group has the id ${id}` });
    else if (group.is_system === 1 || isReservedGroupName(group.name)) errors.push({ field, message: `group ${id} is a system group and cannot be used by a template` });
  };
  s.approver_group_ids.forEach((id, i) => checkGroup(`approver_group_ids.${i}`, id));
  s.requester_group_ids.forEach((id, i) => checkGroup(`requester_group_ids.${i}`, id));
  if (s.escalation_group_id) checkGroup('escalation_group_id', s.escalation_group_id);
  for (const r of stageGroupRefs(s.stages).filter((r) => !r.field.startsWith('stages.0.'))) {
    checkGroup(r.field, r.id);
  }
  // A trigger naming no script would fail every event's delivery, long after the save.
  if (s.trigger && !(await scriptIsLive(s.trigger.script_id))) errors.push({ field: 'trigger.script_id', message: `no live script has the id ${s.trigger.script_id}` });
  return errors;
}

/** Every rule, on the whole template: create and PATCH alike. */
async function assertValid(
  repo: TemplatesRepo,
  s: TemplateSettings,
  approval: { chosen: ApprovalMode | undefined; before?: ApprovalMode },
  scriptIsLive: (id: string) => Promise<boolean>,
  resolved: ResolvedStages,
): Promise<void> {
  // With `stages` given, the stage rules (resolved.errors) replace the flat ones, and stage 1's fields are named as the caller wrote them.
  const flatRules = resolved.staged
    ? crossAttributeErrors(s).filter((e) => !e.field.startsWith('escalation_'))
    : [...approvalErrors(approval.chosen, s.approver_group_ids, approval.before), ...crossAttributeErrors(s)];
  const references = (await referenceErrors(repo, s, scriptIsLive)).map((e) =>
    resolved.staged && /^(approver_group_ids|escalation_group_id)/.test(e.field) ? { ...e, field: `stages.0.${e.field}` } : e,
  );
  const errors = [...resolved.errors, ...flatRules, ...references];
  assertThat(errors.length === 0, validationFailed(errors));
  assertScheduleAllowed(s);
}

/** Admin management of access-request templates, and the list a requester picks from. */
export function createTemplatesService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, hooks: TemplateHooks = {}) {
  const { db, dialect, clock, audit } = core;
  const templates = createTemplatesRepo(db);

  return {
    list: async (actor: Actor, query: PageQuery & { enabled?: boolean; app_id?: string; q?: string }): Promise<Page<Template>> => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await templates.list({ limit: query.limit, cursor: query.cursor, enabled: query.enabled, appId: query.app_id, text: query.q }), query.limit);
    },

    get: async (actor: Actor, id: string): Promise<Template> => {
      assertThat(actor.isAdmin, forbidden());
      const template = await templates.findLiveById(id);
      assertThat(template, notFound('template'));
      return template;
    },

    create: async (actor: Actor, input: CreateTemplateIn): Promise<Template> => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const { approval, stages, approver_group_ids, escalation_after_mins, escalation_group_id, ...rest } = input;
      const resolved = resolveStages({ approval, stages, approver_group_ids, escalation_after_mins, escalation_group_id });
      const settings: TemplateSettings = { ...rest, ...resolved.flat, stages: resolved.stages };
      const template: Template = { ...normalize(settings), id: newId(clock), version: 1, created_at: now, updated_at: now, deleted_at: null };
      await db.transaction().execute(async (trx) => {
        const repo = createTemplatesRepo(trx);
        // Validated as sent, so an error's field index is the caller's, not the sorted one.
        await assertValid(repo, settings, { chosen: resolved.chosen }, (scriptId) => lockLiveScript(trx, dialect, scriptId), resolved);
        await repo.insert(template);
        await audit.append(trx, { actor, action: 'template.created', targetType: 'template', targetId: template.id, data: auditFields(template) });
      });
      return template;
    },

    /**
     * Changes any subset; the merged result must pass every rule. A PATCH that changes
     * nothing keeps the version. `expected` (from If-Match) is checked after the row lock,
     * so of two edits made from the same version exactly one applies.
     */
    update: async (actor: Actor, id: string, input: UpdateTemplateIn, expected: ExpectedVersion = { kind: 'any' }): Promise<Template> => {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'access_request_templates', 'id', id);
        const repo = createTemplatesRepo(trx);
        const before = await repo.findLiveById(id);
        assertThat(before, notFound('template'));
        assertVersionMatches(expected, before.version);
        const { approval, stages, ...changes } = input;
        const given = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<TemplateSettings>;
        const resolved = resolveStages({ approval, stages, approver_group_ids: given.approver_group_ids, escalation_after_mins: given.escalation_after_mins, escalation_group_id: given.escalation_group_id }, before.stages);
        const merged = { ...settingsOf(before), ...given, ...resolved.flat, stages: resolved.stages };
        await assertValid(repo, merged, { chosen: resolved.chosen, before: approvalOf(before) }, (scriptId) => lockLiveScript(trx, dialect, scriptId), resolved);
        const settings = normalize(merged);
        if (canonicalJson(settings) === canonicalJson(settingsOf(before))) return before;

        const after: Template = { ...before, ...settings, version: before.version + 1, updated_at: clock.now() };
        await repo.replace(after);
        // The hook locks request rows, so it runs before the audit append takes the chain
        // head: the reverse order could deadlock with a decision on PostgreSQL.
        if (before.enabled && !after.enabled) await hooks.templateRetired?.(trx, after, 'disabled', actor);
        await audit.append(trx, { actor, action: 'template.updated', targetType: 'template', targetId: id, data: { before: auditFields(before), after: auditFields(after) } });
        return after;
      });
    },

    /** Soft delete: requests and audit events keep pointing at the row; GET answers 404 from now on. */
    remove: async (actor: Actor, id: string): Promise<void> => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        await lockRow(trx, dialect, 'access_request_templates', 'id', id);
        const repo = createTemplatesRepo(trx);
        const template = await repo.findLiveById(id);
        assertThat(template, notFound('template'));
        await repo.softDelete(id, clock.now());
        await hooks.templateRetired?.(trx, template, 'deleted', actor);
        await audit.append(trx, { actor, action: 'template.deleted', targetType: 'template', targetId: id, data: auditFields(template) });
      });
    },

    /** What an admin should know about each template now (computed on read, never stored). */
    warnings: async (list: readonly Template[]): Promise<Map<string, TemplateWarning[]>> => {
      const approverGroups = [...new Set(list.flatMap((t) => t.stages.flatMap((s) => s.approver_group_ids)))];
      const staffed = new Set(await templates.groupsWithActiveMembers(approverGroups, clock.now()));
      return new Map(
        list.map((t) => {
          const unstaffed = t.stages.some((s) => s.approval === 'groups' && !s.approver_group_ids.some((g) => staffed.has(g)));
          return [t.id, unstaffed ? ['approver_groups_without_active_members' as const] : []];
        }),
      );
    },

    /** Any signed-in user: the templates they may request now, with the names the form shows. */
    listRequestable: async (actor: Actor, query: PageQuery): Promise<Page<RequestableTemplate>> => {
      const page = toPage(await templates.listRequestable(actor.userId, clock.now(), query), query.limit);
      const groupIds = page.items.flatMap((t) => t.stages.flatMap((s) => [...s.approver_group_ids, ...(s.escalation_group_id ? [s.escalation_group_id] : [])]));
      const [apps, groups, mine] = await Promise.all([
        templates.applicationNames([...new Set(page.items.map((t) => t.app_id))]),
        templates.findGroups([...new Set(groupIds)]),
        hooks.requesterStates?.(actor.userId, page.items.map((t) => t.id)) ?? new Map<string, MyTemplateState>(),
      ]);
      const appNames = new Map(apps.map((a) => [a.id, a.name]));
      const groupNames = new Map(groups.map((g) => [g.id, g.name]));
      return {
        items: page.items.map((template) => ({ template, app: { id: template.app_id, name: appNames.get(template.app_id) ?? '' }, groupNames, mine: mine.get(template.id) ?? null })),
        next_cursor: page.next_cursor,
      };
    },
  };
}
export type TemplatesService = ReturnType<typeof createTemplatesService>;
