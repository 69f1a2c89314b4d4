import { describe, expect, it } from 'vitest';
import { cappedTokenTtlSecs } from '../src/modules/claims/claims.ts';
import { mergeWindowedClaims } from '../src/modules/claims/windows.ts';

const NOW = 1_800_000_000_000;
const MIN = 60_000;

/** The window rule at the claims decision point: a grant counts only while starts_at ≤ now < expires_at. */
describe('claims with grant windows (scheduled start)', () => {
  it('leaves out a source whose window has not opened, and counts it from its start on', () => {
    const sources = [
      { claim: 'team', value: 'platform', expiresAt: null },
      { claim: 'role', value: 'prod-admin', expiresAt: NOW + 70 * MIN, startsAt: NOW + 10 * MIN },
    ];
    expect(mergeWindowedClaims(sources, NOW)).toEqual({ claims: { team: 'platform' }, expiresAt: null, changesAt: NOW + 10 * MIN });
    expect(mergeWindowedClaims(sources, NOW + 10 * MIN - 1).claims).not.toHaveProperty('role');
    expect(mergeWindowedClaims(sources, NOW + 10 * MIN)).toEqual({ claims: { team: 'platform', role: 'prod-admin' }, expiresAt: NOW + 70 * MIN });
  });

  it('is plain merging when nothing is still to start (a null or past start)', () => {
    const sources = [
      { claim: 'role', value: 'a', expiresAt: NOW + MIN, startsAt: null },
      { claim: 'role', value: 'b', expiresAt: null, startsAt: NOW - MIN },
    ];
    expect(mergeWindowedClaims(sources, NOW)).toEqual({ claims: { role: ['a', 'b'] }, expiresAt: NOW + MIN });
  });

  it('takes the earliest start that would change the claims, and ignores starts that add nothing', () => {
    const sources = [
      { claim: 'role', value: ['viewer'], expiresAt: null },
      // Already held permanently: starting changes nothing.
      { claim: 'role', value: 'viewer', expiresAt: NOW + 90 * MIN, startsAt: NOW + 5 * MIN },
      // A reserved name never reaches a token.
      { claim: 'sub', value: 'someone-else', expiresAt: NOW + 90 * MIN, startsAt: NOW + 6 * MIN },
      { claim: 'role', value: 'admin', expiresAt: NOW + 90 * MIN, startsAt: NOW + 30 * MIN },
      { claim: 'break_glass', value: true, expiresAt: NOW + 90 * MIN, startsAt: NOW + 20 * MIN },
    ];
    expect(mergeWindowedClaims(sources, NOW)).toEqual({ claims: { role: ['viewer'] }, expiresAt: null, changesAt: NOW + 20 * MIN });
  });

  it('caps a token at the next change even when it carries only permanent values, and not by the short temporary cap', () => {
    const claims = { claims: { team: 'platform' }, expiresAt: null, changesAt: NOW + 90_000 };
    expect(cappedTokenTtlSecs({ clientTtlSecs: 3600, tempTtlSecs: 300, claims, now: NOW })).toBe(90);
    // A change further away than the client's lifetime does not shorten it.
    expect(cappedTokenTtlSecs({ clientTtlSecs: 3600, tempTtlSecs: 300, claims: { ...claims, changesAt: NOW + 2 * 3600_000 }, now: NOW })).toBe(3600);
    // With a temporary value too: the earliest of the three.
    expect(cappedTokenTtlSecs({ clientTtlSecs: 3600, tempTtlSecs: 300, claims: { claims: { role: 'x' }, expiresAt: NOW + 200_000, changesAt: NOW + 90_500 }, now: NOW })).toBe(90);
    // Less than a second before the start: one second, never zero.
    expect(cappedTokenTtlSecs({ clientTtlSecs: 3600, tempTtlSecs: 300, claims: { ...claims, changesAt: NOW + 400 }, now: NOW })).toBe(1);
  });
});
