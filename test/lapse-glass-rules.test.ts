import { describe, expect, it } from 'vitest';
import { BREAK_GLASS_REVIEW_OUTCOMES, BREAK_GLASS_REVIEW_STATES, reviewTransition, transition, type BreakGlassReviewState } from '../src/modules/requests/lifecycle.ts';
import { lapsesAt } from '../src/modules/requests/lapse.ts';
import { lapseGlassErrors } from '../src/modules/templates/lapse-glass.types.ts';

/** The pure rules of issue 12 §4 and §5: the review state machine, the template rules, the lapse time. */
describe('break-glass review state machine', () => {
  const EXPECTED: Record<BreakGlassReviewState, Record<(typeof BREAK_GLASS_REVIEW_OUTCOMES)[number], string>> = {
    unreviewed: { reviewed: 'reviewed', revoked: 'revoked' },
    reviewed: { reviewed: 'already_reviewed', revoked: 'already_reviewed' },
    revoked: { reviewed: 'already_reviewed', revoked: 'already_reviewed' },
  };
  const cases = BREAK_GLASS_REVIEW_STATES.flatMap((from) => BREAK_GLASS_REVIEW_OUTCOMES.map((outcome) => [from, outcome, EXPECTED[from][outcome]] as const));

  it('covers every state and outcome', () => {
    expect(cases).toHaveLength(6);
  });

  it.each(cases)('%s + %s → %s', (from, outcome, expected) => {
    const result = reviewTransition(from, outcome);
    if (typeof result === 'object') {
      expect(result.code).toBe(expected);
      expect(result.detail).toContain(from);
    } else {
      expect(result).toBe(expected);
    }
  });

  it('lapse and break_glass leave only pending', () => {
    expect(transition('pending', 'lapse')).toBe('lapsed');
    expect(transition('pending', 'break_glass')).toBe('approved');
    expect(transition('provisioning', 'lapse')).toMatchObject({ refused: true, code: 'request_not_pending' });
    expect(transition('lapsed', 'approve')).toMatchObject({ refused: true, code: 'request_not_pending' });
    expect(transition('lapsed', 'comment')).toMatchObject({ refused: true, code: 'request_closed' });
  });
});

describe('lapse and break-glass template rules', () => {
  type Rules = Parameters<typeof lapseGlassErrors>[0];
  const base: Rules = {
    pending_ttl_mins: null,
    break_glass: false,
    break_glass_max_mins: null,
    break_glass_review_mins: null,
    escalation_after_mins: null,
    requester_group_ids: [],
    trigger: null,
  };
  const fields = (over: Partial<Rules>) => lapseGlassErrors({ ...base, ...over }).map((e) => e.field);

  it.each<[string, Partial<Rules>, string[]]>([
    ['nothing set', {}, []],
    ['a lapse alone', { pending_ttl_mins: 60 }, []],
    ['escalation before the lapse', { pending_ttl_mins: 60, escalation_after_mins: 59 }, []],
    ['escalation at the lapse', { pending_ttl_mins: 60, escalation_after_mins: 60 }, ['pending_ttl_mins']],
    ['escalation after the lapse', { pending_ttl_mins: 30, escalation_after_mins: 60 }, ['pending_ttl_mins']],
    ['a later stage escalating after the lapse', { pending_ttl_mins: 60, stages: [{ escalation_after_mins: 30 }, { escalation_after_mins: 90 }] }, ['pending_ttl_mins']],
    ['every stage escalating before the lapse', { pending_ttl_mins: 120, stages: [{ escalation_after_mins: 30 }, { escalation_after_mins: 90 }] }, []],
    ['break-glass complete', { break_glass: true, requester_group_ids: ['g'], break_glass_max_mins: 30, break_glass_review_mins: 60 }, []],
    ['break-glass for everyone', { break_glass: true, break_glass_max_mins: 30, break_glass_review_mins: 60 }, ['break_glass']],
    ['break-glass without durations', { break_glass: true, requester_group_ids: ['g'] }, ['break_glass_max_mins', 'break_glass_review_mins']],
    ['break-glass with a blocking trigger', { break_glass: true, requester_group_ids: ['g'], break_glass_max_mins: 30, break_glass_review_mins: 60, trigger: { failure_mode: 'block' } }, ['break_glass']],
    ['break-glass with a retrying trigger', { break_glass: true, requester_group_ids: ['g'], break_glass_max_mins: 30, break_glass_review_mins: 60, trigger: { failure_mode: 'retry' } }, []],
    ['durations without break-glass (ignored)', { break_glass_max_mins: 30 }, []],
  ])('%s', (_name, over, expected) => {
    expect(fields(over)).toEqual(expected);
  });

  it('a request lapses pending_ttl_mins after it was made, or never', () => {
    expect(lapsesAt(1_000, 2)).toBe(121_000);
    expect(lapsesAt(1_000, null)).toBeNull();
    expect(lapsesAt(1_000, undefined)).toBeNull();
  });
});
