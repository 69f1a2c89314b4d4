import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { description, instant, name, searchText, toIso, toIsoOrNull } from '../../http/schemas.ts';
import { customFieldOut, customFieldsIn, type CustomFieldDefinition } from './custom-fields.ts';
import { lapseGlassAttributes, lapseGlassDefaults, lapseGlassOut, requestableLapseGlassOut, toRequestableLapseGlass } from './lapse-glass.types.ts';
import { approvalOut, stageOut, stagesIn, type TemplateStage } from './template-stages.ts';

export const NOTIFICATION_POLICIES = ['all', 'first_n', 'random_n', 'round_robin'] as const;
/** `groups`: members of approver_group_ids decide; `open`: any user but the requester. Never implied by an empty list. */
export const APPROVAL_MODES = ['groups', 'open'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];
/** Things an admin should look at, returned with the template (they do not stop a save). */
export const TEMPLATE_WARNINGS = ['approver_groups_without_active_members'] as const;
export type TemplateWarning = (typeof TEMPLATE_WARNINGS)[number];
export const TRIGGER_FAILURE_MODES = ['ignore', 'retry', 'block'] as const;
export const MAX_DURATION_MINS = 525_600;
export const MAX_ESCALATION_AFTER_MINS = 10_080;
/** How far ahead a scheduled start may be, at most (30 days). */
export const MAX_START_DELAY_MINS = 43_200;
const MAX_IDS = 100;

export interface TemplateTrigger {
  script_id: string;
  failure_mode: (typeof TRIGGER_FAILURE_MODES)[number];
  max_retries: number;
}

/** Everything an admin sets on a template: the API body after defaults, and what the rules check. */
export interface TemplateSettings {
  name: string;
  description: string;
  enabled: boolean;
  app_id: string;
  mapping_ids: string[];
  allowed_durations: number[];
  approver_group_ids: string[];
  requester_group_ids: string[];
  require_justification: boolean;
  auto_approve: boolean;
  notification_policy: (typeof NOTIFICATION_POLICIES)[number];
  notification_count: number;
  escalation_after_mins: number | null;
  escalation_group_id: string | null;
  custom_fields: CustomFieldDefinition[];
  trigger: TemplateTrigger | null;
  pending_ttl_mins: number | null;
  break_glass: boolean;
  break_glass_max_mins: number | null;
  break_glass_review_mins: number | null;
  /** Ordered approval stages, at least one; stage 1 is also the flat attributes above. */
  stages: TemplateStage[];
  /** Extension of an active grant (issue 12 §2); see requests/extension.ts. */
  allow_extension: boolean;
  extension_requires_approval: boolean;
  max_total_mins: number | null;
  /** How far ahead (minutes) a requester may schedule the start; null or 0: access starts at approval. */
  max_start_delay_mins: number | null;
  /** Approvers may decide several of its pending requests at once (issue 14 §4); each still goes through every single-decision check. */
  allow_bulk_decisions: boolean;
  /** Approve, deny, revoke and break-glass need a second-factor check made within this many minutes (issue 15); null: off. */
  step_up_minutes: number | null;
}

/** A stored template with its links, JSON columns parsed and flags as booleans. */
export interface Template extends TemplateSettings {
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

const noRepeats = (values: readonly unknown[]) => new Set(values).size === values.length;
const idList = (what: string) => z.array(z.uuid()).max(MAX_IDS).refine(noRepeats, `must not list the same ${what} twice`);

const triggerIn = z.strictObject({
  script_id: z.uuid().describe('the script task to run on every lifecycle event of requests made from this template'),
  failure_mode: z.enum(TRIGGER_FAILURE_MODES).default('ignore'),
  max_retries: z.number().int().min(0).max(20).default(3),
});

/**
 * Each attribute without a default, so PATCH can tell "left out" from "set". The
 * rules that span attributes run in template-rules.ts on the whole result.
 */
const attributes = {
  name,
  description,
  enabled: z.boolean(),
  app_id: z.uuid(),
  mapping_ids: idList('mapping').min(1, 'must list at least one mapping').describe('mappings of the application that an approved request grants'),
  allowed_durations: z
    .array(z.number().int().min(1).max(MAX_DURATION_MINS, 'must be at most 525600 minutes (one year)'))
    .min(1, 'must offer at least one duration')
    .max(MAX_IDS)
    .refine(noRepeats, 'must not offer the same duration twice')
    .describe('the durations, in minutes, a requester may choose from'),
  approver_group_ids: idList('group').describe('groups whose members may approve; must be empty exactly when approval is "open"'),
  approval: z
    .enum(APPROVAL_MODES)
    .describe('"groups" (members of approver_group_ids approve) or "open" (any user except the requester); an empty approver_group_ids needs "open" said explicitly'),
  requester_group_ids: idList('group').describe('groups whose members may request; empty means every user'),
  require_justification: z.boolean(),
  auto_approve: z.boolean().describe('approve at once on submission; needs requester_group_ids'),
  notification_policy: z.enum(NOTIFICATION_POLICIES),
  notification_count: z.number().int().min(1).max(100).describe('N for first_n and random_n'),
  escalation_after_mins: z.number().int().min(1).max(MAX_ESCALATION_AFTER_MINS).nullable().describe('escalate after this many minutes without a decision'),
  escalation_group_id: z.uuid().nullable(),
  custom_fields: customFieldsIn,
  trigger: triggerIn.nullable(),
  ...lapseGlassAttributes,
  stages: stagesIn,
  allow_extension: z.boolean().describe('the requester may extend an active grant by one of allowed_durations, with a justification'),
  extension_requires_approval: z
    .boolean()
    .describe('an extension goes through approval like a request; false (granted at once) only on auto_approve templates'),
  max_total_mins: z
    .number()
    .int()
    .min(1)
    .max(MAX_DURATION_MINS)
    .nullable()
    .describe('the longest a grant may last with its extensions, counted from its start; defaults to the largest allowed duration when extensions are allowed'),
  max_start_delay_mins: z
    .number()
    .int()
    .min(0)
    .max(MAX_START_DELAY_MINS, 'must be at most 43200 minutes (30 days)')
    .nullable()
    .describe('how far ahead, in minutes, a requester may ask for access to start (starts_at); null or 0: no scheduled start. Not with a block-mode trigger'),
  allow_bulk_decisions: z
    .boolean()
    .describe('approvers may approve or deny several pending requests of this template at once (POST /api/v1/access-requests/bulk-decisions); each request still passes every check of a single decision'),
  step_up_minutes: z
    .number()
    .int()
    .min(1, 'must be between 1 and 60 minutes')
    .max(60, 'must be between 1 and 60 minutes')
    .nullable()
    .describe('approve, deny, revoke and break-glass need a fresh second-factor check (POST /api/v1/step-up) made within this many minutes of the decision; null: off'),
};

export const createTemplateIn = z.strictObject({
  ...attributes,
  approval: attributes.approval.optional(),
  description: attributes.description.default(''),
  enabled: attributes.enabled.default(true),
  approver_group_ids: attributes.approver_group_ids.optional(),
  requester_group_ids: attributes.requester_group_ids.default([]),
  require_justification: attributes.require_justification.default(true),
  auto_approve: attributes.auto_approve.default(false),
  notification_policy: attributes.notification_policy.default('all'),
  notification_count: attributes.notification_count.default(1),
  escalation_after_mins: attributes.escalation_after_mins.optional(),
  escalation_group_id: attributes.escalation_group_id.optional(),
  stages: attributes.stages.optional(),
  custom_fields: attributes.custom_fields.default([]),
  trigger: attributes.trigger.default(null),
  ...lapseGlassDefaults,
  allow_extension: attributes.allow_extension.default(false),
  extension_requires_approval: attributes.extension_requires_approval.default(true),
  max_total_mins: attributes.max_total_mins.default(null),
  max_start_delay_mins: attributes.max_start_delay_mins.default(null),
  allow_bulk_decisions: attributes.allow_bulk_decisions.default(false),
  step_up_minutes: attributes.step_up_minutes.default(null),
});
export type CreateTemplateIn = z.infer<typeof createTemplateIn>;

export const updateTemplateIn = z.strictObject(attributes).partial();
export type UpdateTemplateIn = z.infer<typeof updateTemplateIn>;

export const listTemplatesQuery = pageQuery.extend({
  q: searchText.optional().describe('part of the name or the description, any case'),
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  app_id: z.uuid().optional(),
});

const triggerOut = z.object({ script_id: z.string(), failure_mode: z.enum(TRIGGER_FAILURE_MODES), max_retries: z.number().int() });

export const templateOut = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  enabled: z.boolean(),
  app_id: z.uuid(),
  mapping_ids: z.array(z.uuid()),
  allowed_durations: z.array(z.number().int()),
  approval: z.enum(APPROVAL_MODES).nullable().describe('null when the template has several stages'),
  approver_group_ids: z.array(z.uuid()).describe("stage 1's approver groups when the template has one stage; empty otherwise"),
  requester_group_ids: z.array(z.uuid()),
  require_justification: z.boolean(),
  auto_approve: z.boolean(),
  notification_policy: z.enum(NOTIFICATION_POLICIES),
  notification_count: z.number().int(),
  escalation_after_mins: z.number().int().nullable(),
  escalation_group_id: z.uuid().nullable(),
  custom_fields: z.array(customFieldOut),
  trigger: triggerOut.nullable(),
  ...lapseGlassOut,
  stages: z.array(stageOut).describe('the ordered approval stages (always at least one)'),
  allow_extension: z.boolean(),
  extension_requires_approval: z.boolean(),
  max_total_mins: z.number().int().nullable(),
  max_start_delay_mins: z.number().int().nullable(),
  allow_bulk_decisions: z.boolean(),
  step_up_minutes: z.number().int().nullable().describe('minutes within which a decision needs a fresh second-factor check; null: off'),
  version: z.number().int().describe('bumped on every change; a request records the version it was made against'),
  warnings: z
    .array(z.enum(TEMPLATE_WARNINGS))
    .describe('approver_groups_without_active_members: nobody could approve a request made now (the escalation group may still, once it escalates)'),
  created_at: instant,
  updated_at: instant,
});

const ref = z.object({ id: z.uuid(), name: z.string() });

/** One approval stage with its groups named, as a requester sees it (the catalogue, and a request's stages). */
export const namedStageOut = z.object({
  position: z.number().int(),
  open: z.boolean(),
  approver_groups: z.array(ref),
  quorum: z.number().int(),
  escalation_after_mins: z.number().int().nullable(),
  escalation_group: ref.nullable(),
});
export type NamedStage = z.infer<typeof namedStageOut>;

/** Stage `i` of a template (0-based) with its groups named by `group`. */
export function namedStage(s: TemplateStage, i: number, group: (id: string) => { id: string; name: string }): NamedStage {
  return {
    position: i + 1,
    open: s.approval === 'open',
    approver_groups: s.approver_group_ids.map(group),
    quorum: s.quorum,
    escalation_after_mins: s.escalation_after_mins,
    escalation_group: s.escalation_group_id === null ? null : group(s.escalation_group_id),
  };
}
export type Ref = z.infer<typeof ref>;

/**
 * The caller's own standing on a template (issue 14 §1): a request waiting for a decision, or
 * access that is live or scheduled. The requests module answers it through TemplateHooks.
 */
export interface MyTemplateState {
  state: 'pending' | 'active' | 'scheduled';
  request_id: string;
  starts_at: number | null;
  expires_at: number | null;
  seconds_left: number | null;
}

const myStateOut = z
  .object({
    state: z.enum(['pending', 'active', 'scheduled']),
    request_id: z.uuid(),
    starts_at: instant.nullable(),
    expires_at: instant.nullable(),
    seconds_left: z.number().int().nullable().describe('whole seconds of access left (active or scheduled)'),
  })
  .nullable()
  .describe('your pending request, or your active or scheduled access, from this template; null when you have neither (a new request would be accepted)');

/** What a requester needs to fill in the form, and to know who will decide. */
export const requestableOut = z.object({
  id: z.uuid(),
  version: z.number().int(),
  name: z.string(),
  description: z.string(),
  app: ref,
  allowed_durations: z.array(z.number().int()),
  require_justification: z.boolean(),
  custom_fields: z.array(customFieldOut),
  auto_approve: z.boolean(),
  open: z.boolean().describe('true when any user except the requester may approve'),
  approver_groups: z.array(ref),
  escalation_after_mins: z.number().int().nullable(),
  escalation_group: ref.nullable(),
  ...requestableLapseGlassOut,
  stages: z.array(namedStageOut).describe('who approves each stage, how many approvals it needs and where it escalates; the flat fields above are stage 1'),
  allow_extension: z.boolean(),
  extension_requires_approval: z.boolean(),
  max_total_mins: z.number().int().nullable(),
  max_start_delay_mins: z.number().int().nullable().describe('how far ahead the start may be scheduled (starts_at); null or 0: not at all'),
  mine: myStateOut,
});

/** Open is stored as an empty approver list; only the API requires saying so. */
export const approvalOf = (t: Pick<TemplateSettings, 'approver_group_ids'>): ApprovalMode => (t.approver_group_ids.length === 0 ? 'open' : 'groups');

export function toTemplateOut(t: Template, warnings: readonly TemplateWarning[]): z.infer<typeof templateOut> {
  const { deleted_at: _deleted, created_at, updated_at, ...rest } = t;
  return { ...rest, ...approvalOut(t.stages), warnings: [...warnings], created_at: toIso(created_at), updated_at: toIso(updated_at) };
}

export function toRequestableOut(t: Template, names: { app: Ref; groups: ReadonlyMap<string, string> }, mine: MyTemplateState | null = null): z.infer<typeof requestableOut> {
  const group = (id: string): Ref => ({ id, name: names.groups.get(id) ?? '' });
  return {
    id: t.id,
    version: t.version,
    name: t.name,
    description: t.description,
    app: names.app,
    allowed_durations: t.allowed_durations,
    require_justification: t.require_justification,
    custom_fields: t.custom_fields,
    auto_approve: t.auto_approve,
    open: approvalOf(t) === 'open',
    approver_groups: t.approver_group_ids.map(group),
    escalation_after_mins: t.escalation_after_mins,
    escalation_group: t.escalation_group_id === null ? null : group(t.escalation_group_id),
    ...toRequestableLapseGlass(t),
    stages: t.stages.map((s, i) => namedStage(s, i, group)),
    allow_extension: t.allow_extension,
    extension_requires_approval: t.extension_requires_approval,
    max_total_mins: t.max_total_mins,
    max_start_delay_mins: t.max_start_delay_mins,
    mine: mine && { ...mine, starts_at: toIsoOrNull(mine.starts_at), expires_at: toIsoOrNull(mine.expires_at) },
  };
}

/** What an admin set on a template, without id, version and timestamps. */
export function settingsOf(t: Template): TemplateSettings {
  const { id: _id, version: _version, created_at: _c, updated_at: _u, deleted_at: _d, ...settings } = t;
  return settings;
}

/** The audited view of a template: its settings and version. */
export function auditFields(t: Template): Record<string, unknown> {
  return { ...settingsOf(t), version: t.version };
}
