import { describe, expect, it } from 'vitest';
import type { EventPayload } from '../src/modules/event-payload/event-payload.types.ts';
import { approverStageOf, notifiesRequester, secureRandom, selectApprovers, type SelectApproversInput } from '../src/modules/notifications/notify-policy.ts';

/** mulberry32: a small seeded PRNG, so random_n cases are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const R = 'requester';
const base = (over: Partial<SelectApproversInput>): SelectApproversInput => ({ policy: 'all', count: 1, pools: [], requesterId: R, position: 0, ...over });

describe('selectApprovers: deterministic policies', () => {
  const cases: [string, Partial<SelectApproversInput>, string[], number][] = [
    // [name, input, expected ids, expected nextPosition]
    ['all: one pool in order', { pools: [['a', 'b', 'c']] }, ['a', 'b', 'c'], 0],
    ['all: pools in order', { pools: [['a', 'b'], ['c']] }, ['a', 'b', 'c'], 0],
    ['all: duplicates across pools kept at first place', { pools: [['a', 'b'], ['b', 'c', 'a']] }, ['a', 'b', 'c'], 0],
    ['all: duplicates within a pool', { pools: [['a', 'a', 'b']] }, ['a', 'b'], 0],
    ['all: requester left out', { pools: [['a', R, 'b']] }, ['a', 'b'], 0],
    ['all: requester in several pools', { pools: [[R, 'a'], ['b', R], [R]] }, ['a', 'b'], 0],
    ['all: count is ignored', { count: 1, pools: [['a', 'b', 'c']] }, ['a', 'b', 'c'], 0],
    ['all: no pools', { pools: [] }, [], 0],
    ['all: empty pools', { pools: [[], []] }, [], 0],
    ['all: only the requester', { pools: [[R], [R]] }, [], 0],
    ['all: position untouched', { pools: [['a']], position: 7 }, ['a'], 7],

    ['first_n: first N of the first pool', { policy: 'first_n', count: 2, pools: [['a', 'b', 'c'], ['d']] }, ['a', 'b'], 0],
    ['first_n: never reaches the second pool', { policy: 'first_n', count: 5, pools: [['a', 'b'], ['c', 'd']] }, ['a', 'b'], 0],
    ['first_n: N larger than the pool', { policy: 'first_n', count: 10, pools: [['a']] }, ['a'], 0],
    ['first_n: requester excluded before counting', { policy: 'first_n', count: 2, pools: [[R, 'a', 'b', 'c']] }, ['a', 'b'], 0],
    ['first_n: requester in the middle', { policy: 'first_n', count: 2, pools: [['a', R, 'b', 'c']] }, ['a', 'b'], 0],
    ['first_n: requester in several pools', { policy: 'first_n', count: 3, pools: [[R, 'a'], [R, 'b']] }, ['a'], 0],
    ['first_n: duplicate within the first pool', { policy: 'first_n', count: 2, pools: [['a', 'a', 'b']] }, ['a', 'b'], 0],
    ['first_n: first pool only the requester', { policy: 'first_n', count: 1, pools: [[R], ['a']] }, [], 0],
    ['first_n: empty first pool', { policy: 'first_n', count: 1, pools: [[], ['a']] }, [], 0],
    ['first_n: no pools', { policy: 'first_n', count: 3, pools: [] }, [], 0],
    ['first_n: count 0', { policy: 'first_n', count: 0, pools: [['a']] }, [], 0],

    ['round_robin: position 0', { policy: 'round_robin', pools: [['a', 'b', 'c']], position: 0 }, ['a'], 1],
    ['round_robin: position 1', { policy: 'round_robin', pools: [['a', 'b', 'c']], position: 1 }, ['b'], 2],
    ['round_robin: position 2', { policy: 'round_robin', pools: [['a', 'b', 'c']], position: 2 }, ['c'], 3],
    ['round_robin: wraps around', { policy: 'round_robin', pools: [['a', 'b', 'c']], position: 3 }, ['a'], 4],
    ['round_robin: wraps far', { policy: 'round_robin', pools: [['a', 'b', 'c']], position: 3001 }, ['b'], 3002],
    ['round_robin: across pools, deduplicated', { policy: 'round_robin', pools: [['a', 'b'], ['b', 'c']], position: 2 }, ['c'], 3],
    ['round_robin: requester excluded from the cycle', { policy: 'round_robin', pools: [['a', R, 'b']], position: 1 }, ['b'], 2],
    ['round_robin: requester only in a later pool', { policy: 'round_robin', pools: [['a'], [R, 'b']], position: 3 }, ['b'], 4],
    ['round_robin: count ignored', { policy: 'round_robin', count: 5, pools: [['a', 'b']], position: 0 }, ['a'], 1],
    ['round_robin: nobody keeps the position', { policy: 'round_robin', pools: [[R]], position: 5 }, [], 5],
    ['round_robin: no pools', { policy: 'round_robin', pools: [], position: 0 }, [], 0],
    ['round_robin: position defaults to 0', { policy: 'round_robin', pools: [['a', 'b']], position: undefined }, ['a'], 1],
  ];

  it.each(cases)('%s', (_name, input, userIds, nextPosition) => {
    expect(selectApprovers(base(input))).toEqual({ userIds, nextPosition });
  });

  it('round_robin visits every candidate once per cycle, never the requester', () => {
    const pools = [['a', 'b', R], ['c', 'a', 'd']];
    let position = 0;
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const out = selectApprovers({ policy: 'round_robin', count: 1, pools, requesterId: R, position });
      seen.push(...out.userIds);
      position = out.nextPosition;
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd']);
  });
});

describe('selectApprovers: random_n', () => {
  const pools = [['a', 'b', R, 'c'], ['c', 'd', 'e', R], ['a', 'f']];
  const candidates = ['a', 'b', 'c', 'd', 'e', 'f'];

  it('picks N distinct members across all pools, never the requester, over many seeds', () => {
    for (let seed = 1; seed <= 500; seed++) {
      for (const count of [1, 2, 3, 6]) {
        const { userIds, nextPosition } = selectApprovers({ policy: 'random_n', count, pools, requesterId: R, random: seeded(seed), position: 4 });
        expect(userIds).toHaveLength(count);
        expect(new Set(userIds).size).toBe(count);
        expect(userIds).not.toContain(R);
        for (const id of userIds) expect(candidates).toContain(id);
        expect(nextPosition).toBe(4);
      }
    }
  });

  it('reaches every candidate, including those only in later pools', () => {
    const hits = new Map<string, number>();
    for (let seed = 1; seed <= 600; seed++) {
      for (const id of selectApprovers({ policy: 'random_n', count: 2, pools, requesterId: R, random: seeded(seed) }).userIds) hits.set(id, (hits.get(id) ?? 0) + 1);
    }
    expect([...hits.keys()].sort()).toEqual(candidates);
    // 1200 draws over 6 people: each should get roughly 200; a broken shuffle skews far more.
    for (const n of hits.values()) expect(n).toBeGreaterThan(120);
  });

  it('gives everyone when N is larger than the candidates', () => {
    const { userIds } = selectApprovers({ policy: 'random_n', count: 50, pools, requesterId: R, random: seeded(3) });
    expect([...userIds].sort()).toEqual(candidates);
  });

  it('counts N after leaving the requester out', () => {
    const { userIds } = selectApprovers({ policy: 'random_n', count: 2, pools: [[R, 'a', 'b']], requesterId: R, random: () => 0 });
    expect([...userIds].sort()).toEqual(['a', 'b']);
  });

  it('is reproducible with the same seed and varies across seeds', () => {
    const run = (seed: number) => selectApprovers({ policy: 'random_n', count: 3, pools, requesterId: R, random: seeded(seed) }).userIds;
    expect(run(42)).toEqual(run(42));
    const distinct = new Set(Array.from({ length: 50 }, (_, i) => run(i + 1).join(',')));
    expect(distinct.size).toBeGreaterThan(10);
  });

  it('survives a random() that returns the edges 0 and almost 1', () => {
    for (const r of [0, 0.9999999999]) {
      const { userIds } = selectApprovers({ policy: 'random_n', count: 4, pools, requesterId: R, random: () => r });
      expect(new Set(userIds).size).toBe(4);
    }
  });

  it('returns nobody when only the requester is in the pools', () => {
    expect(selectApprovers({ policy: 'random_n', count: 3, pools: [[R], [R]], requesterId: R }).userIds).toEqual([]);
  });

  it('uses a secure default random source in [0, 1)', () => {
    for (let i = 0; i < 1000; i++) {
      const x = secureRandom();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    const { userIds } = selectApprovers({ policy: 'random_n', count: 3, pools, requesterId: R });
    expect(new Set(userIds).size).toBe(3);
  });
});

describe('who else hears about an event', () => {
  const payload = (type: EventPayload['type'], actorId: string | null) =>
    ({ type, actor: { type: actorId ? 'user' : 'system', id: actorId, email: null, name: null }, request: { requester: { id: 'req', email: 'r@x', name: 'R' } } }) as unknown as EventPayload;

  const cases: [EventPayload['type'], string | null, boolean][] = [
    ['access_request.submitted', 'req', false],
    ['access_request.approved', 'approver', true],
    ['access_request.approved', null, true],
    ['access_request.denied', 'approver', true],
    ['access_request.cancelled', 'req', false],
    ['access_request.escalated', null, false],
    ['access_request.expiring_soon', null, true],
    ['access_request.expired', null, true],
    ['access_request.revoked', 'admin', true],
    ['access_request.revoked', 'req', false],
    ['access_request.comment_added', 'approver', true],
    ['access_request.comment_added', 'req', false],
  ];
  it.each(cases)('%s by %s → requester notified: %s', (type, actor, expected) => {
    expect(notifiesRequester(payload(type, actor))).toBe(expected);
  });

  it('asks approvers on submission and the escalation group on escalation only', () => {
    expect(approverStageOf('access_request.submitted')).toBe('submitted');
    expect(approverStageOf('access_request.escalated')).toBe('escalated');
    for (const t of ['access_request.approved', 'access_request.comment_added', 'access_request.expired'] as const) expect(approverStageOf(t)).toBeNull();
  });
});
