import { describe, expect, it } from 'vitest';
import { isStale, staleGrants, USAGE_STALE_MS } from '../src/modules/claims/index.ts';
import { approverFigures, byTemplate, decidableAt, grantEnd, grantFigures, median, percentile, summarise, type RequestFact, type VoteFact } from '../src/modules/insights/figures.ts';
import { standingAccess, valueItems } from '../src/modules/insights/standing.ts';

const S = 1000;
const request = (over: Partial<RequestFact> = {}): RequestFact => ({
  id: 'r1',
  template_id: 't1',
  requester_id: 'u1',
  status: 'pending',
  created_at: 0,
  current_stage: 1,
  decided_at: null,
  decided_by: null,
  approved_at: null,
  escalated: false,
  activated_at: null,
  expires_at: null,
  ended_at: null,
  break_glass: false,
  first_used_at: null,
  last_used_at: null,
  ...over,
});
const approved = (id: string, over: Partial<RequestFact> = {}) =>
  request({ id, status: 'approved', decided_at: 10 * S, decided_by: 'a1', approved_at: 10 * S, activated_at: 10 * S, expires_at: 3610 * S, ...over });
const vote = (over: Partial<VoteFact> = {}): VoteFact => ({ request_id: 'r1', approver_id: 'a1', stage: 1, comment: null, created_at: 10 * S, ...over });

describe('percentiles (linear interpolation between closest ranks)', () => {
  it.each([
    [[], 0.5, null],
    [[7], 0.5, 7],
    [[7], 0.9, 7],
    [[1, 2], 0.5, 1.5],
    [[4, 1, 3, 2], 0.5, 2.5],
    [[1, 2, 3, 4], 0.9, 3.7],
    [[10, 300, 900, 1800], 0.9, 1530],
    [[1, 2, 3], 0.5, 2],
    [[1, 2, 3], 0, 1],
    [[1, 2, 3], 1, 3],
  ])('%j at %d is %j', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
  it('median is the 0.5 percentile and does not reorder its input', () => {
    const values = [3, 1, 2];
    expect(median(values)).toBe(2);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('usage staleness (the 60 s rule)', () => {
  it('writes a never-used grant and one last used at least 60 s ago, not a fresher one', () => {
    expect(USAGE_STALE_MS).toBe(60_000);
    expect(isStale(null, 100 * S)).toBe(true);
    expect(isStale(40 * S, 100 * S)).toBe(true);
    expect(isStale(40 * S + 1, 100 * S)).toBe(false);
    expect(isStale(100 * S, 100 * S)).toBe(false);
  });
  it('picks each stale grant once, skips ordinary groups and grants not started yet', () => {
    const now = 1000 * S;
    expect(
      staleGrants(
        [
          { group_id: 'g0', usage_last_used_at: null, membership_starts_at: null }, // not a grant
          { group_id: 'g2', usage_last_used_at: 0, membership_starts_at: null }, // never used
          { group_id: 'g2', usage_last_used_at: 0, membership_starts_at: null },
          { group_id: 'g1', usage_last_used_at: now - 61 * S, membership_starts_at: now - 1 },
          { group_id: 'g3', usage_last_used_at: now - 59 * S, membership_starts_at: null },
          { group_id: 'g4', usage_last_used_at: 0, membership_starts_at: now + 1 }, // not started
          { group_id: 'g5', usage_last_used_at: 0, membership_starts_at: now },
        ],
        now,
      ),
    ).toEqual(['g1', 'g2', 'g5']);
    expect(staleGrants([], 0)).toEqual([]);
  });
});

describe('per grant', () => {
  it('is null for a request whose window never opened', () => {
    expect(grantFigures(request())).toBeNull();
    expect(grantFigures(request({ status: 'approved', approved_at: 1, starts_at: 5 } as Partial<RequestFact>))).toBeNull();
  });
  it('measures first use, used time and share against the granted window', () => {
    expect(grantFigures(approved('r1', { first_used_at: 70 * S, last_used_at: 1200 * S }))).toMatchObject({
      time_to_first_use_secs: 60,
      granted_secs: 3600,
      used_secs: 1190,
      used_share: 1190 / 3600,
      ends_at: 3610 * S,
    });
  });
  it('counts a never-used grant as 0 used', () => {
    expect(grantFigures(approved('r1'))).toMatchObject({ time_to_first_use_secs: null, used_secs: 0, used_share: 0 });
  });
  it('ends a revoked grant at its revocation, an expired one at its expiry (the worker may record it later)', () => {
    expect(grantEnd({ ended_at: 100, expires_at: 200 })).toBe(100);
    expect(grantEnd({ ended_at: 250, expires_at: 200 })).toBe(200);
    expect(grantEnd({ ended_at: null, expires_at: 200 })).toBe(200);
    expect(grantEnd({ ended_at: 50, expires_at: null })).toBe(50);
    expect(grantEnd({ ended_at: null, expires_at: null })).toBeNull();
    expect(grantFigures(approved('r1', { ended_at: 610 * S, last_used_at: 1200 * S }))).toMatchObject({ granted_secs: 600, used_secs: 600, used_share: 1 });
  });
  it('has no share when the granted time is unknown or zero', () => {
    expect(grantFigures(approved('r1', { expires_at: null }))).toMatchObject({ granted_secs: null, used_share: null });
    expect(grantFigures(approved('r1', { expires_at: 10 * S }))).toMatchObject({ granted_secs: 0, used_share: null });
  });
});

describe('per template and overall', () => {
  it('is all zeros and nulls for no requests', () => {
    expect(summarise([])).toEqual({
      requests: 0,
      approved: 0,
      denied: 0,
      approval_rate: null,
      decision_median_secs: null,
      decision_p90_secs: null,
      escalations: 0,
      lapsed: 0,
      grants: 0,
      never_used: 0,
      first_use_median_secs: null,
      used_secs: 0,
      unused_secs: 0,
    });
  });
  it('counts decisions by people only: not auto-approvals, break-glass or the requester', () => {
    const facts = [
      approved('r1'), // 10 s
      request({ id: 'r2', status: 'denied', decided_at: 100 * S, decided_by: 'a1', ended_at: 100 * S }), // 100 s
      approved('r3', { decided_by: null, decided_at: 0 }), // auto
      approved('r4', { decided_by: 'u1', break_glass: true, decided_at: 0 }), // break-glass
      request({ id: 'r5', status: 'lapsed', escalated: true }),
      request({ id: 'r6', status: 'cancelled' }),
    ];
    expect(summarise(facts)).toMatchObject({ requests: 6, approved: 3, denied: 1, approval_rate: 0.75, decision_median_secs: 55, decision_p90_secs: 91, escalations: 1, lapsed: 1, grants: 3, never_used: 3 });
  });
  it('sums used and unused granted time, and takes the median first use of used grants', () => {
    const facts = [approved('r1', { first_used_at: 70 * S, last_used_at: 1210 * S }), approved('r2', { first_used_at: 20 * S, last_used_at: 20 * S }), approved('r3')];
    expect(summarise(facts)).toMatchObject({ grants: 3, never_used: 1, first_use_median_secs: 35, used_secs: 1200 + 10, unused_secs: 3 * 3600 - 1210 });
  });
  it('groups by template, listing templates without requests too', () => {
    const rows = byTemplate([approved('r1', { template_id: 't2' }), request({ id: 'r2', template_id: 't3' })], ['t1', 't2']);
    expect(rows.map((r) => [r.template_id, r.requests])).toEqual([
      ['t1', 0],
      ['t2', 1],
      ['t3', 1],
    ]);
  });
});

describe('per approver', () => {
  it('a request becomes decidable at submission for stage 1, and when the previous stage’s last approval came for later stages', () => {
    const votes = [vote({ stage: 1, created_at: 50 }), vote({ stage: 1, created_at: 80, approver_id: 'a2' }), vote({ stage: 2, created_at: 200 })];
    expect(decidableAt({ created_at: 5 }, 1, votes)).toBe(5);
    expect(decidableAt({ created_at: 5 }, 2, votes)).toBe(80);
    expect(decidableAt({ created_at: 5 }, 3, votes)).toBe(200);
    expect(decidableAt({ created_at: 5 }, 2, [])).toBe(5);
  });
  it('counts approvals, denials, comments and rubber stamps (≤ 30 s), ordered by decisions', () => {
    const facts = [
      approved('r1'),
      approved('r2', { created_at: 0 }),
      request({ id: 'r3', status: 'denied', decided_by: 'a2', decided_at: 400 * S, current_stage: 2 }),
      request({ id: 'r4', status: 'denied', decided_by: 'u1', decided_at: 5 * S }), // the requester: not an approver's decision
    ];
    const votes = [
      vote({ request_id: 'r1', approver_id: 'a1', created_at: 30 * S }), // 30 s: a stamp
      vote({ request_id: 'r2', approver_id: 'a1', created_at: 31 * S, comment: '  ' }), // 31 s, blank comment
      vote({ request_id: 'r3', approver_id: 'a1', stage: 1, created_at: 100 * S, comment: 'fine' }),
      vote({ request_id: 'other', approver_id: 'a3', created_at: 1 }), // not among the requests
    ];
    expect(approverFigures(facts, votes)).toEqual([
      { approver_id: 'a1', decisions: 3, approvals: 3, denials: 0, median_decide_secs: 31, approvals_without_comment: 2, rubber_stamps: 1 },
      { approver_id: 'a2', decisions: 1, approvals: 0, denials: 1, median_decide_secs: 300, approvals_without_comment: 0, rubber_stamps: 0 },
    ]);
    expect(approverFigures(facts, votes, 31)[0]!.rubber_stamps).toBe(2);
    expect(approverFigures([], [])).toEqual([]);
  });
  it('breaks ties in decisions by approver id', () => {
    const votes = [vote({ approver_id: 'b' }), vote({ approver_id: 'a' })];
    expect(approverFigures([approved('r1')], votes).map((a) => a.approver_id)).toEqual(['a', 'b']);
  });
});

describe('standing access', () => {
  it.each([
    ['"admin"', ['admin']],
    ['["a","b","a"]', ['a', 'b']],
    ['true', ['true']],
    ['false', ['false']],
    ['[1,"x"]', ['x']],
    ['{"a":1}', []],
    ['12', []],
    ['not json', []],
  ])('the values of %s are %j', (json, items) => {
    expect(valueItems(json)).toEqual(items);
  });

  const mappings = [
    { id: 'm-granted', app_id: 'app', claim: 'role', value_json: '"admin"' },
    { id: 'm-list', app_id: 'app', claim: 'role', value_json: '["admin","viewer"]' },
    { id: 'm-other-claim', app_id: 'app', claim: 'team', value_json: '"admin"' },
    { id: 'm-other-value', app_id: 'app', claim: 'role', value_json: '"viewer"' },
    { id: 'm-other-app', app_id: 'app2', claim: 'role', value_json: '"admin"' },
  ];
  const links = [
    { mapping_id: 'm-granted', group_id: 'g-holders' },
    { mapping_id: 'm-list', group_id: 'g-team' },
    { mapping_id: 'm-other-claim', group_id: 'g-x' },
    { mapping_id: 'm-other-value', group_id: 'g-y' },
    { mapping_id: 'm-other-app', group_id: 'g-z' },
  ];
  const members = ['g-holders', 'g-team', 'g-x', 'g-y', 'g-z'].map((g) => ({ group_id: g, user_id: `u-${g}` }));

  it('finds permanent members who hold, through any mapping of the same application and claim, a value the template grants', () => {
    expect(standingAccess([{ template_id: 't', app_id: 'app', mapping_ids: ['m-granted'] }], mappings, links, members)).toEqual([
      { template_id: 't', claim: 'role', value: 'admin', group_id: 'g-holders', user_id: 'u-g-holders' },
      { template_id: 't', claim: 'role', value: 'admin', group_id: 'g-team', user_id: 'u-g-team' },
    ]);
  });
  it('lists each shared value once, and ignores mappings of other applications and unknown ids', () => {
    const rows = standingAccess([{ template_id: 't', app_id: 'app', mapping_ids: ['m-list', 'm-list', 'missing', 'm-other-app'] }], mappings, links, members);
    expect(rows.map((r) => `${r.value}@${r.group_id}`)).toEqual(['admin@g-holders', 'admin@g-team', 'viewer@g-team', 'viewer@g-y']);
  });
  it('is empty without members or templates', () => {
    expect(standingAccess([{ template_id: 't', app_id: 'app', mapping_ids: ['m-granted'] }], mappings, links, [])).toEqual([]);
    expect(standingAccess([], mappings, links, members)).toEqual([]);
  });
});
