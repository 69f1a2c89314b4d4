import { describe, expect, it } from 'vitest';
import { mayDecide } from '../src/modules/requests/eligibility.ts';
import { isLastStage, stageAt, stageEscalatesAt, stageView, voteOutcome } from '../src/modules/requests/stages.ts';
import { approvalOut, resolveStages, type TemplateStage } from '../src/modules/templates/template-stages.ts';

const stage = (over: Partial<TemplateStage> = {}): TemplateStage => ({
  approval: 'groups',
  approver_group_ids: ['g1'],
  quorum: 1,
  escalation_after_mins: null,
  escalation_group_id: null,
  ...over,
});
const three = { stages: [stage({ quorum: 2 }), stage({ approver_group_ids: ['g2'], escalation_after_mins: 30, escalation_group_id: 'esc2' }), stage({ approval: 'open', approver_group_ids: [], quorum: 3 })] };

describe('stage rules (pure)', () => {
  it('voteOutcome: every (stage, approvals) pair of a three-stage template', () => {
    const table: [number, number, string][] = [
      [1, 0, 'wait'],
      [1, 1, 'wait'],
      [1, 2, 'advance'],
      [1, 3, 'advance'],
      [2, 0, 'wait'],
      [2, 1, 'advance'],
      [3, 2, 'wait'],
      [3, 3, 'approve'],
      [3, 4, 'approve'],
      // A template edited to fewer stages leaves the request in its last stage.
      [4, 3, 'approve'],
    ];
    for (const [position, approvals, outcome] of table) expect(voteOutcome(three, position, approvals), `${position}/${approvals}`).toBe(outcome);
    expect(voteOutcome({ stages: [stage()] }, 1, 1)).toBe('approve');
    expect(voteOutcome({ stages: [stage()] }, 1, 0)).toBe('wait');
  });

  it('stageAt clamps, isLastStage, stageEscalatesAt only with both delay and group', () => {
    expect(stageAt(three, 0)).toBe(three.stages[0]);
    expect(stageAt(three, 9)).toBe(three.stages[2]);
    expect([1, 2, 3, 4].map((p) => isLastStage(three, p))).toEqual([false, false, true, true]);
    expect(stageEscalatesAt(three, 2, 1000)).toBe(1000 + 30 * 60_000);
    expect(stageEscalatesAt(three, 1, 1000)).toBeNull();
    expect(stageEscalatesAt({ stages: [stage(), stage({ escalation_after_mins: 5 })] }, 2, 0)).toBeNull();
  });

  it('stageView gives the notifications the stage’s groups; stage 1 is the template itself', () => {
    const template = { ...three, approver_group_ids: ['g1'], escalation_group_id: null, escalation_after_mins: null };
    expect(stageView(template, 1)).toBe(template);
    expect(stageView(template, 2)).toMatchObject({ approver_group_ids: ['g2'], escalation_group_id: 'esc2', escalation_after_mins: 30 });
    expect(stageView(template, 3)).toMatchObject({ approver_group_ids: [] });
  });

  it('mayDecide follows the current stage: its groups, open, its own escalation, never the requester', () => {
    const policy = { approver_group_ids: ['g1'], escalation_group_id: null, deleted_at: null, stages: three.stages };
    const at = (current_stage: number, escalated: 0 | 1 = 0) => ({ requester_id: 'req', escalated, current_stage });
    expect(mayDecide(policy, at(1), 'u', new Set(['g1']))).toBe(true);
    expect(mayDecide(policy, at(2), 'u', new Set(['g1']))).toBe(false);
    expect(mayDecide(policy, at(2), 'u', new Set(['g2']))).toBe(true);
    expect(mayDecide(policy, at(2), 'u', new Set(['esc2']))).toBe(false);
    expect(mayDecide(policy, at(2, 1), 'u', new Set(['esc2']))).toBe(true);
    expect(mayDecide(policy, at(3), 'u', new Set())).toBe(true);
    expect(mayDecide(policy, at(3), 'req', new Set())).toBe(false);
    expect(mayDecide({ ...policy, deleted_at: 1 }, at(3), 'u', new Set())).toBe(false);
  });
});

describe('stages in a template body', () => {
  it('stages given: they are the approval; flat beside them is an error naming what was given', () => {
    const r = resolveStages({ stages: [{ approver_group_ids: ['g1'], quorum: 2, escalation_after_mins: null, escalation_group_id: null }], approver_group_ids: ['g9'] });
    expect(r.errors).toEqual([{ field: 'stages', message: 'give either stages or approver_group_ids, not both' }]);
    expect(r.staged).toBe(true);
    expect(r.flat).toEqual({ approver_group_ids: ['g1'], escalation_after_mins: null, escalation_group_id: null });
  });

  it('flat given: one stage, keeping the quorum only of a template that was one stage', () => {
    expect(resolveStages({ approver_group_ids: ['g2'] }, [stage({ quorum: 3 })]).stages).toEqual([stage({ approver_group_ids: ['g2'], quorum: 3 })]);
    expect(resolveStages({ approver_group_ids: ['g2'] }, three.stages).stages).toEqual([stage({ approver_group_ids: ['g2'] })]);
    expect(resolveStages({ approval: 'open' }).stages).toEqual([stage({ approval: 'open', approver_group_ids: [] })]);
  });

  it('neither given: the stages stay', () => {
    expect(resolveStages({}, three.stages).stages).toEqual(three.stages);
    expect(resolveStages({}, three.stages).staged).toBe(true);
  });

  it('per-stage rules: an empty group list needs "open", escalation needs both halves', () => {
    const r = resolveStages({
      stages: [
        { approver_group_ids: [], quorum: 1, escalation_after_mins: null, escalation_group_id: null },
        { approver_group_ids: ['g1'], quorum: 1, escalation_after_mins: null, escalation_group_id: 'e' },
        { approval: 'open', approver_group_ids: ['g1'], quorum: 1, escalation_after_mins: 5, escalation_group_id: null },
      ],
    });
    expect(r.errors.map((e) => e.field)).toEqual(['stages.0.approver_group_ids', 'stages.1.escalation_after_mins', 'stages.2.approver_group_ids', 'stages.2.escalation_group_id']);
  });

  it('approvalOut: flat attributes only for one stage', () => {
    expect(approvalOut([stage({ escalation_after_mins: 5, escalation_group_id: 'e' })])).toMatchObject({ approval: 'groups', approver_group_ids: ['g1'], escalation_after_mins: 5, escalation_group_id: 'e' });
    expect(approvalOut(three.stages)).toMatchObject({ approval: null, approver_group_ids: [], escalation_after_mins: null, escalation_group_id: null });
    expect(approvalOut(three.stages).stages.map((s) => s.position)).toEqual([1, 2, 3]);
  });
});
