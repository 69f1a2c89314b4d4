import { z } from 'zod';
import type { FieldError } from '../../http/errors.ts';
import { approvalErrors } from './template-rules.ts';

/**
 * Ordered approval stages (issue 12 §1). The brief's flat attributes (approval,
 * approver_group_ids, escalation_after_mins, escalation_group_id) are the one-stage form
 * of the same thing: a template always has `stages` (at least one), and its flat
 * attributes are stage 1's. The API fills the flat attributes only for one-stage
 * templates; a body gives either `stages` or flat attributes, never both.
 */
export const MAX_STAGES = 10;
/** Upper bound of a stage's quorum. A quorum larger than the stage's current approvers is allowed (membership changes); the admin sees a warning. */
export const MAX_QUORUM = 50;
const MAX_IDS = 100;
const MAX_ESCALATION_AFTER_MINS = 10_080;

export interface TemplateStage {
  /** "open": any user but the requester; "groups": live members of approver_group_ids. */
  approval: 'groups' | 'open';
  approver_group_ids: string[];
  /** Distinct approvals the stage needs before the request moves on. */
  quorum: number;
  escalation_after_mins: number | null;
  escalation_group_id: string | null;
}

const noRepeats = (values: readonly unknown[]) => new Set(values).size === values.length;

export const stageIn = z.strictObject({
  approval: z.enum(['groups', 'open']).optional().describe('"groups" (default when approver_group_ids is set) or "open"; an empty approver_group_ids needs "open" said explicitly'),
  approver_group_ids: z.array(z.uuid()).max(MAX_IDS).refine(noRepeats, 'must not list the same group twice').default([]),
  quorum: z.number().int().min(1, 'must be at least 1').max(MAX_QUORUM).default(1).describe('distinct approvals this stage needs; one person counts once per request'),
  escalation_after_mins: z.number().int().min(1).max(MAX_ESCALATION_AFTER_MINS).nullable().default(null).describe('escalate after this many minutes in this stage'),
  escalation_group_id: z.uuid().nullable().default(null).describe('the group that may also decide this stage once it escalates'),
});
export type StageIn = z.infer<typeof stageIn>;
export const stagesIn = z.array(stageIn).min(1, 'must have at least one stage').max(MAX_STAGES).describe('ordered approval stages; conflicts with the flat approver attributes');

export const stageOut = z.object({
  position: z.number().int().describe('1-based'),
  approval: z.enum(['groups', 'open']),
  approver_group_ids: z.array(z.uuid()),
  quorum: z.number().int(),
  escalation_after_mins: z.number().int().nullable(),
  escalation_group_id: z.uuid().nullable(),
});

/** The flat attributes of a template body that mean "one stage". */
export interface FlatApproval {
  approval?: 'groups' | 'open';
  approver_group_ids?: string[];
  escalation_after_mins?: number | null;
  escalation_group_id?: string | null;
}
const FLAT_KEYS = ['approval', 'approver_group_ids', 'escalation_after_mins', 'escalation_group_id'] as const;

export interface ResolvedStages {
  stages: TemplateStage[];
  /** Stage 1 in the flat form (what the template's flat columns hold). */
  flat: { approver_group_ids: string[]; escalation_after_mins: number | null; escalation_group_id: string | null };
  /** Set only in the one-stage form: the approval mode the caller chose (undefined: implied). */
  chosen: 'groups' | 'open' | undefined;
  /** True when `stages` was given (its rules are checked here, not by the flat rules). */
  staged: boolean;
  errors: FieldError[];
}

/** Per-stage rules: who approves must be chosen, and escalation needs both its delay and its group. */
export function stageErrors(stages: readonly StageIn[]): FieldError[] {
  const errors: FieldError[] = [];
  stages.forEach((s, i) => {
    for (const e of approvalErrors(s.approval, s.approver_group_ids)) errors.push({ field: `stages.${i}.${e.field}`, message: e.message });
    if (s.escalation_after_mins !== null && s.escalation_group_id === null) errors.push({ field: `stages.${i}.escalation_group_id`, message: 'is required when escalation_after_mins is set' });
    if (s.escalation_group_id !== null && s.escalation_after_mins === null) errors.push({ field: `stages.${i}.escalation_after_mins`, message: 'is required when escalation_group_id is set' });
  });
  return errors;
}

const modeOf = (groups: readonly string[]): 'groups' | 'open' => (groups.length === 0 ? 'open' : 'groups');

/**
 * Turns a create or PATCH body into stages. `stages` given: they replace the template's
 * (flat attributes given too is a 400). Flat attributes given: the template becomes one
 * stage built from them over stage 1 (keeping stage 1's quorum only when it already was
 * one stage). Neither: the template's stages stay (`before`), or one open-by-choice stage
 * on create (the flat rules then ask for approver groups).
 */
export function resolveStages(input: FlatApproval & { stages?: StageIn[] }, before?: readonly TemplateStage[]): ResolvedStages {
  const flatGiven = FLAT_KEYS.filter((k) => input[k] !== undefined);
  if (input.stages !== undefined) {
    const errors = stageErrors(input.stages);
    if (flatGiven.length > 0) errors.unshift({ field: 'stages', message: `give either stages or ${flatGiven.join(', ')}, not both` });
    const stages = input.stages.map((s) => ({
      approval: s.approval ?? modeOf(s.approver_group_ids),
      approver_group_ids: s.approver_group_ids,
      quorum: s.quorum,
      escalation_after_mins: s.escalation_after_mins,
      escalation_group_id: s.escalation_group_id,
    }));
    const first = stages[0]!;
    return {
      stages,
      flat: { approver_group_ids: first.approver_group_ids, escalation_after_mins: first.escalation_after_mins, escalation_group_id: first.escalation_group_id },
      chosen: undefined,
      staged: true,
      errors,
    };
  }
  if (before && flatGiven.length === 0) {
    const first = before[0]!;
    return {
      stages: before.map((s) => ({ ...s })),
      flat: { approver_group_ids: first.approver_group_ids, escalation_after_mins: first.escalation_after_mins, escalation_group_id: first.escalation_group_id },
      chosen: undefined,
      staged: before.length > 1,
      errors: [],
    };
  }
  // The one-stage form, merged over stage 1 when the template was already one stage.
  const base = before && before.length === 1 ? before[0]! : undefined;
  const groups = input.approver_group_ids ?? base?.approver_group_ids ?? [];
  const flat = {
    approver_group_ids: groups,
    escalation_after_mins: input.escalation_after_mins !== undefined ? input.escalation_after_mins : (base?.escalation_after_mins ?? null),
    escalation_group_id: input.escalation_group_id !== undefined ? input.escalation_group_id : (base?.escalation_group_id ?? null),
  };
  return {
    stages: [{ approval: input.approval ?? modeOf(groups), ...flat, quorum: base?.quorum ?? 1 }],
    flat,
    chosen: input.approval,
    staged: false,
    errors: [],
  };
}

/** Every group the stages name (approver and escalation groups), for the reference checks. */
export const stageGroupRefs = (stages: readonly TemplateStage[]): { field: string; id: string }[] =>
  stages.flatMap((s, i) => [
    ...s.approver_group_ids.map((id, j) => ({ field: `stages.${i}.approver_group_ids.${j}`, id })),
    ...(s.escalation_group_id ? [{ field: `stages.${i}.escalation_group_id`, id: s.escalation_group_id }] : []),
  ]);

/** The API form of a template's approval: `stages` always, the flat attributes only for one stage. */
export function approvalOut(stages: readonly TemplateStage[]) {
  const one = stages.length === 1 ? stages[0]! : undefined;
  return {
    stages: stages.map((s, i) => ({ position: i + 1, ...s, approver_group_ids: [...s.approver_group_ids] })),
    approval: one ? one.approval : null,
    approver_group_ids: one ? [...one.approver_group_ids] : [],
    escalation_after_mins: one ? one.escalation_after_mins : null,
    escalation_group_id: one ? one.escalation_group_id : null,
  };
}
