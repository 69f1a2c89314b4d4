import type { Template } from '../templates/templates.types.ts';
import type { ApprovalPolicy } from './eligibility.ts';

/**
 * Pure rules of approval stages (issue 12 §1). A request waits in one stage at a time
 * (`current_stage`, 1-based); the stage's policy (approver groups or open, quorum,
 * escalation) is read from the template at each decision, as approver groups always were.
 * A template edited to fewer stages than a request has already reached leaves that
 * request in the template's last stage.
 */
export type StagedTemplate = Pick<Template, 'stages' | 'deleted_at'>;
type StageOf = Template['stages'][number];

/** How many stages the template has now (at least one). */
export const stageCount = (template: Pick<Template, 'stages'>): number => Math.max(1, template.stages.length);

/** The stage a request at `position` is in: the template's stage at that position, or its last. */
export function stageAt(template: Pick<Template, 'stages'>, position: number): StageOf {
  const index = Math.min(Math.max(position, 1), stageCount(template)) - 1;
  return template.stages[index]!;
}

export const isLastStage = (template: Pick<Template, 'stages'>, position: number): boolean => position >= stageCount(template);

/** Who decides a request in stage `position`: that stage's groups (none = open) and, once escalated, its escalation group. */
export function stagePolicy(template: StagedTemplate, position: number): ApprovalPolicy {
  const stage = stageAt(template, position);
  return { approver_group_ids: stage.approver_group_ids, escalation_group_id: stage.escalation_group_id, deleted_at: template.deleted_at };
}

/**
 * The template as the notifications see one stage: its flat approver and escalation
 * attributes replaced by the stage's, so the notification policy (all, first_n,
 * random_n, round_robin) applies per stage with the stage's groups.
 */
export function stageView<T extends Pick<Template, 'stages' | 'approver_group_ids' | 'escalation_group_id' | 'escalation_after_mins'>>(template: T, position: number): T {
  if (position <= 1 || template.stages.length <= 1) return template;
  const stage = stageAt(template, position);
  return { ...template, approver_group_ids: stage.approver_group_ids, escalation_group_id: stage.escalation_group_id, escalation_after_mins: stage.escalation_after_mins };
}

export type VoteOutcome = 'wait' | 'advance' | 'approve';

/**
 * What a request's state is after the approvals counted in its current stage: waiting
 * for more, moving to the next stage, or approved (the last stage reached its quorum).
 */
export function voteOutcome(template: Pick<Template, 'stages'>, position: number, approvalsInStage: number): VoteOutcome {
  if (approvalsInStage < stageAt(template, position).quorum) return 'wait';
  return isLastStage(template, position) ? 'approve' : 'advance';
}

/** When stage `position` escalates if it opens at `openedAt`; null when it has no escalation. */
export function stageEscalatesAt(template: Pick<Template, 'stages'>, position: number, openedAt: number): number | null {
  const stage = stageAt(template, position);
  if (stage.escalation_after_mins === null || stage.escalation_group_id === null) return null;
  return openedAt + stage.escalation_after_mins * 60_000;
}

/** Every approver group of every stage: who may revoke a grant and see a request, beside its current stage's deciders. */
export const allStageGroupIds = (template: Pick<Template, 'stages'>): string[] => [...new Set(template.stages.flatMap((s) => s.approver_group_ids))];
