import { describe, expect, it } from 'vitest';
import { cappedTokenTtlSecs, mergeClaims, RESERVED_CLAIMS, sourceExpiry, stillHolds, type ClaimSource, type EffectiveClaims } from '../src/modules/claims/claims.ts';

const P = null; // a permanent source
const T1 = 1_000_000;
const T2 = 2_000_000;
const T3 = 3_000_000;
const src = (claim: string, value: unknown, expiresAt: number | null = P): ClaimSource => ({ claim, value, expiresAt });

describe('mergeClaims', () => {
  const cases: { name: string; sources: ClaimSource[]; expected: EffectiveClaims }[] = [
    { name: 'no sources', sources: [], expected: { claims: {}, expiresAt: null } },
    { name: 'one permanent scalar', sources: [src('team', 'a')], expected: { claims: { team: 'a' }, expiresAt: null } },
    { name: 'one temporary scalar', sources: [src('team', 'a', T1)], expected: { claims: { team: 'a' }, expiresAt: T1 } },
    { name: 'equal scalars stay one scalar', sources: [src('team', 'a', T1), src('team', 'a', T2)], expected: { claims: { team: 'a' }, expiresAt: T2 } },
    { name: 'equal scalars, one permanent: not capped', sources: [src('team', 'a', T1), src('team', 'a')], expected: { claims: { team: 'a' }, expiresAt: null } },
    { name: 'differing scalars become a sorted list', sources: [src('team', 'b'), src('team', 'a')], expected: { claims: { team: ['a', 'b'] }, expiresAt: null } },
    { name: 'differing scalars: the temporary one caps', sources: [src('team', 'b', T1), src('team', 'a')], expected: { claims: { team: ['a', 'b'] }, expiresAt: T1 } },
    { name: 'lists: sorted set union', sources: [src('roles', ['z', 'a']), src('roles', ['m', 'a'])], expected: { claims: { roles: ['a', 'm', 'z'] }, expiresAt: null } },
    { name: 'a list stays a list with one item', sources: [src('roles', ['a'])], expected: { claims: { roles: ['a'] }, expiresAt: null } },
    { name: 'duplicates inside one list collapse', sources: [src('roles', ['a', 'a'])], expected: { claims: { roles: ['a'] }, expiresAt: null } },
    { name: 'an empty list', sources: [src('roles', [], T1)], expected: { claims: { roles: [] }, expiresAt: null } },
    { name: 'list and scalar merge into a list', sources: [src('roles', 'b'), src('roles', ['a'])], expected: { claims: { roles: ['a', 'b'] }, expiresAt: null } },
    {
      name: 'per value: a temporary value also given permanently is not capped',
      sources: [src('roles', ['viewer']), src('roles', ['admin', 'viewer'], T1)],
      expected: { claims: { roles: ['admin', 'viewer'] }, expiresAt: T1 },
    },
    {
      name: 'per value: each value takes its latest source',
      sources: [src('roles', ['admin'], T1), src('roles', ['admin'], T3), src('roles', ['ops'], T2)],
      expected: { claims: { roles: ['admin', 'ops'] }, expiresAt: T2 },
    },
    { name: 'booleans: any true wins', sources: [src('bg', false), src('bg', true, T1)], expected: { claims: { bg: true }, expiresAt: T1 } },
    { name: 'booleans: true from a permanent source is not capped', sources: [src('bg', true, T1), src('bg', true)], expected: { claims: { bg: true }, expiresAt: null } },
    { name: 'booleans: all false', sources: [src('bg', false, T1), src('bg', false, T2)], expected: { claims: { bg: false }, expiresAt: T2 } },
    { name: 'booleans: temporary false does not cap a permanent true', sources: [src('bg', true), src('bg', false, T1)], expected: { claims: { bg: true }, expiresAt: null } },
    { name: 'a boolean mixed with strings joins the list as text', sources: [src('x', true), src('x', 'a')], expected: { claims: { x: ['a', 'true'] }, expiresAt: null } },
    {
      name: 'expiresAt is the earliest among temporary-only values across claims',
      sources: [src('a', 'x', T3), src('b', ['y'], T1), src('c', true, T2), src('d', 'z')],
      expected: { claims: { a: 'x', b: ['y'], c: true, d: 'z' }, expiresAt: T1 },
    },
    { name: 'malformed values are dropped', sources: [src('a', 42), src('b', { x: 1 }), src('c', ['ok', 3]), src('d', null)], expected: { claims: {}, expiresAt: null } },
    { name: 'codepoint order, not locale order', sources: [src('r', ['b', 'B', 'a', 'A'])], expected: { claims: { r: ['A', 'B', 'a', 'b'] }, expiresAt: null } },
  ];
  it.each(cases)('$name', ({ sources, expected }) => {
    expect(mergeClaims(sources)).toEqual(expected);
  });

  it.each([...RESERVED_CLAIMS])('never emits the reserved name %s', (name) => {
    const merged = mergeClaims([src(name, 'forged', T1), src('ok', 'yes')]);
    expect(merged.claims).toEqual({ ok: 'yes' });
    expect(merged.expiresAt).toBeNull();
  });

  it('includes the names the design reserves', () => {
    for (const name of ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'email', 'email_verified']) expect(RESERVED_CLAIMS.has(name)).toBe(true);
    expect(RESERVED_CLAIMS.has('groups')).toBe(false); // allowed when mapped explicitly
  });

  it('does not depend on the order of its sources', () => {
    const sources = [src('r', ['b'], T2), src('r', 'a', T1), src('r', ['c']), src('f', false, T3), src('f', true, T1)];
    const expected = mergeClaims(sources);
    for (let i = 0; i < 20; i++) expect(mergeClaims([...sources].sort(() => Math.random() - 0.5))).toEqual(expected);
  });
});

describe('sourceExpiry', () => {
  it.each([
    [null, null, null],
    [T1, null, T1],
    [null, T2, T2],
    [T1, T2, T1],
    [T3, T2, T2],
  ])('group %s, membership %s → %s', (group, membership, expected) => {
    expect(sourceExpiry(group, membership)).toBe(expected);
  });
});

describe('cappedTokenTtlSecs', () => {
  const now = 10_000_000;
  const claims = (expiresAt: number | null): EffectiveClaims => ({ claims: {}, expiresAt });
  it.each([
    { name: 'permanent claims keep the client TTL', clientTtlSecs: 3600, claims: claims(null), expected: 3600 },
    { name: 'temporary claims: the temp cap', clientTtlSecs: 3600, claims: claims(now + 86_400_000), expected: 300 },
    { name: 'temporary claims: a shorter client TTL wins', clientTtlSecs: 60, claims: claims(now + 86_400_000), expected: 60 },
    { name: 'temporary claims: never past the expiry', clientTtlSecs: 3600, claims: claims(now + 42_500), expected: 42 },
    { name: 'at least one second', clientTtlSecs: 3600, claims: claims(now + 200), expected: 1 },
    { name: 'unknown claims get the short cap', clientTtlSecs: 3600, claims: undefined, expected: 300 },
    { name: 'unknown claims, shorter client TTL', clientTtlSecs: 30, claims: undefined, expected: 30 },
  ])('$name', ({ clientTtlSecs, claims, expected }) => {
    expect(cappedTokenTtlSecs({ clientTtlSecs, tempTtlSecs: 300, claims, now })).toBe(expected);
  });
});

describe('stillHolds: does the user still have every value a token carries?', () => {
  it.each([
    [{ roles: ['a', 'b'] }, { roles: ['a', 'b', 'c'] }, true],
    [{ roles: ['a', 'b'] }, { roles: ['a'] }, false],
    [{ team: 'x' }, { team: ['x', 'y'] }, true],
    [{ team: 'x' }, { team: 'y' }, false],
    [{ team: 'x' }, {}, false],
    [{ flag: true }, { flag: true }, true],
    [{ flag: true }, { flag: false }, false],
    [{ flag: false }, {}, false],
    [undefined, {}, true],
    [{}, { gained: 'value' }, true],
  ] as const)('%j against %j → %s', (carried, current, expected) => {
    expect(stillHolds(carried, current as Record<string, string | string[] | boolean>)).toBe(expected);
  });
});
