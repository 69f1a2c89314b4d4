import { describe, expect, it } from 'vitest';
import { claimsSignalsOf } from '../src/modules/requests/claims-signals.ts';
import type { Actor } from '../src/http/actor.ts';
import type { RequestRow } from '../src/modules/requests/requests.repo.ts';
import { claimsKey } from '../src/modules/signals/claims-watch.ts';
import { mergeSignals } from '../src/modules/signals/record.ts';
import type { AccessSignal } from '../src/modules/signals/signals.types.ts';

const claims = (userId: string, appId: string, grantEnded?: boolean): AccessSignal => ({
  type: 'claims_changed',
  userId,
  appId,
  reason: `r-${userId}-${appId}`,
  initiator: 'admin',
  ...(grantEnded === undefined ? {} : { grantEnded }),
});

describe('mergeSignals', () => {
  it('keeps one claims_changed per (user, application), the first seen, with grantEnded if any said so', () => {
    const merged = mergeSignals([claims('u1', 'a1'), claims('u1', 'a2'), claims('u1', 'a1', true), claims('u2', 'a1', false), claims('u1', 'a1')]);
    expect(merged.map((s) => s.type === 'claims_changed' && `${s.userId}|${s.appId}|${s.grantEnded === true}`)).toEqual(['u1|a1|true', 'u1|a2|false', 'u2|a1|false']);
    expect(merged[0]!.reason).toBe('r-u1-a1');
  });

  it('merges sessions_ended per user with their sessions deduplicated, and never merges different types', () => {
    const merged = mergeSignals([
      { type: 'sessions_ended', userId: 'u1', reason: 'x', initiator: 'admin', sessions: [{ client_id: 'c1', sid: 's1' }] },
      { type: 'account_disabled', userId: 'u1', reason: 'x', initiator: 'admin' },
      { type: 'sessions_ended', userId: 'u1', reason: 'y', initiator: 'admin', sessions: [{ client_id: 'c1', sid: 's1' }, { client_id: 'c2', sid: 's2' }] },
      claims('u1', 'a1'),
    ]);
    expect(merged.map((s) => s.type)).toEqual(['sessions_ended', 'account_disabled', 'claims_changed']);
    expect(merged[0]).toMatchObject({ sessions: [{ client_id: 'c1', sid: 's1' }, { client_id: 'c2', sid: 's2' }] });
  });

  it('answers nothing for nothing and does not alter its input', () => {
    expect(mergeSignals([])).toEqual([]);
    const input = [claims('u', 'a'), claims('u', 'a', true)];
    mergeSignals(input);
    expect(input[0]).not.toHaveProperty('grantEnded');
  });
});

describe('claimsKey', () => {
  it('ignores key order and list order, and tells values apart', () => {
    expect(claimsKey({ a: 'x', b: ['1', '2'] })).toBe(claimsKey({ b: ['2', '1'], a: 'x' }));
    expect(claimsKey({ a: 'x' })).not.toBe(claimsKey({ a: 'y' }));
    expect(claimsKey({ a: true })).not.toBe(claimsKey({ a: 'true' }));
    expect(claimsKey({})).not.toBe(claimsKey({ a: [] }));
  });
});

describe('claimsSignalsOf (grant lifecycle → claims_changed)', () => {
  const now = Date.UTC(2026, 0, 1);
  const request = (over: Partial<RequestRow> = {}) =>
    ({ id: 'r1', requester_id: 'u1', snapshot: JSON.stringify({ app: { id: 'app1', name: 'App' } }), activated_at: now - 1, starts_at: null, ...over }) as RequestRow;
  const person = (userId: string): Actor => ({ userId, isAdmin: false, via: 'session', mustChangePassword: false });
  const admin = person('admin1');

  it('activated, extended, expired, revoked record one each; approved, cancelled, comments none', () => {
    const events = (['approved', 'activated', 'extended', 'expired', 'revoked', 'cancelled', 'comment_added'] as const).map((type) => ({ type, actor: admin, request: request(), data: { reason: 'done' } }));
    const out = claimsSignalsOf(events, now);
    expect(out).toHaveLength(4);
    expect(out.every((s) => s.type === 'claims_changed' && s.userId === 'u1' && s.appId === 'app1')).toBe(true);
    expect(out.map((s) => s.type === 'claims_changed' && s.grantEnded === true)).toEqual([false, false, false, true]);
    expect(out[3]!.reason).toContain('revoked: done');
  });

  it('a scheduled grant that has not opened: its revocation or extension records nothing', () => {
    const scheduled = request({ activated_at: null, starts_at: now + 60_000 });
    expect(claimsSignalsOf([{ type: 'revoked', actor: admin, request: scheduled }, { type: 'extended', actor: admin, request: scheduled }], now)).toEqual([]);
  });

  it('says who initiated: the system, the requester themself, or someone else (admin)', () => {
    const out = claimsSignalsOf(
      [
        { type: 'expired', actor: 'system', request: request() },
        { type: 'activated', actor: person('u1'), request: request() },
        { type: 'revoked', actor: admin, request: request() },
      ],
      now,
    );
    expect(out.map((s) => s.initiator)).toEqual(['system', 'user', 'admin']);
  });
});
