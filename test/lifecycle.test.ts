import { describe, expect, it } from 'vitest';
import type { RequestStatus } from '../src/db/schema.ts';
import { ENDED_STATUSES, isRefused, OPEN_STATUSES, REQUEST_EVENTS, REQUEST_STATUSES, transition, type RequestEvent } from '../src/modules/requests/lifecycle.ts';

/** The whole table, written out by hand: every (status, event) pair and its outcome. */
const EXPECTED: Record<RequestStatus, Record<RequestEvent, RequestStatus | string>> = {
  pending: {
    approve: 'approved',
    advance_stage: 'pending',
    begin_provisioning: 'provisioning',
    provisioned: 'invalid_transition',
    provisioning_failed: 'invalid_transition',
    provisioning_timed_out: 'invalid_transition',
    approver_lost: 'invalid_transition',
    provisioning_invalidated: 'invalid_transition',
    retire: 'cancelled',
    deny: 'denied',
    cancel: 'cancelled',
    escalate: 'pending',
    expire: 'request_not_active',
    revoke: 'request_not_active',
    comment: 'pending',
    lapse: 'lapsed',
    break_glass: 'approved',
    extend: 'extended',
    activate: 'request_not_active',
    cancel_scheduled: 'request_not_active',
  },
  provisioning: {
    approve: 'request_busy',
    advance_stage: 'request_busy',
    begin_provisioning: 'request_busy',
    provisioned: 'approved',
    provisioning_failed: 'pending',
    provisioning_timed_out: 'pending',
    approver_lost: 'pending',
    provisioning_invalidated: 'cancelled',
    retire: 'cancelled',
    deny: 'request_busy',
    cancel: 'request_busy',
    escalate: 'request_busy',
    expire: 'request_not_active',
    revoke: 'request_not_active',
    comment: 'provisioning',
    lapse: 'request_not_pending',
    break_glass: 'request_not_pending',
    extend: 'request_not_active',
    activate: 'request_not_active',
    cancel_scheduled: 'request_not_active',
  },
  approved: {
    approve: 'request_not_pending',
    advance_stage: 'request_not_pending',
    begin_provisioning: 'request_not_pending',
    provisioned: 'invalid_transition',
    provisioning_failed: 'invalid_transition',
    provisioning_timed_out: 'invalid_transition',
    approver_lost: 'invalid_transition',
    provisioning_invalidated: 'invalid_transition',
    retire: 'request_not_pending',
    deny: 'request_not_pending',
    cancel: 'request_not_pending',
    escalate: 'request_not_pending',
    expire: 'expired',
    revoke: 'revoked',
    comment: 'approved',
    lapse: 'request_not_pending',
    break_glass: 'request_not_pending',
    extend: 'approved',
    activate: 'approved',
    cancel_scheduled: 'cancelled',
  },
  denied: terminal(),
  cancelled: terminal(),
  expired: terminal(),
  revoked: terminal(),
  lapsed: terminal(),
  extended: terminal(),
};

function terminal(): Record<RequestEvent, string> {
  return {
    approve: 'request_not_pending',
    advance_stage: 'request_not_pending',
    begin_provisioning: 'request_not_pending',
    provisioned: 'invalid_transition',
    provisioning_failed: 'invalid_transition',
    provisioning_timed_out: 'invalid_transition',
    approver_lost: 'invalid_transition',
    provisioning_invalidated: 'invalid_transition',
    retire: 'request_not_pending',
    deny: 'request_not_pending',
    cancel: 'request_not_pending',
    escalate: 'request_not_pending',
    expire: 'request_not_active',
    revoke: 'request_not_active',
    comment: 'request_closed',
    lapse: 'request_not_pending',
    break_glass: 'request_not_pending',
    extend: 'request_not_active',
    activate: 'request_not_active',
    cancel_scheduled: 'request_not_active',
  };
}

describe('request lifecycle', () => {
  const cases = REQUEST_STATUSES.flatMap((from) => REQUEST_EVENTS.map((event) => [from, event, EXPECTED[from][event]] as const));

  it('covers every status and event', () => {
    expect(cases).toHaveLength(REQUEST_STATUSES.length * REQUEST_EVENTS.length);
    expect(Object.keys(EXPECTED).sort()).toEqual([...REQUEST_STATUSES].sort());
  });

  it.each(cases)('%s + %s → %s', (from, event, expected) => {
    const result = transition(from, event);
    if (isRefused(result)) {
      expect(result.code).toBe(expected);
      expect(result.detail.length).toBeGreaterThan(0);
    } else {
      expect(result).toBe(expected);
    }
  });

  it('lets nothing leave an ended request, and no open state is ended', () => {
    for (const from of ENDED_STATUSES) {
      for (const event of REQUEST_EVENTS) expect(isRefused(transition(from, event))).toBe(true);
    }
    expect(OPEN_STATUSES.filter((s) => ENDED_STATUSES.includes(s))).toEqual([]);
  });

  it('reaches approved only from pending or provisioning', () => {
    const into = cases.filter(([, , to]) => to === 'approved').map(([from]) => from);
    expect(new Set(into)).toEqual(new Set(['pending', 'provisioning', 'approved']));
    // From approved, only `comment`, `extend` (a later expiry) and `activate` (a scheduled grant's window opening) stay there.
    expect(cases.filter(([from, , to]) => from === 'approved' && to === 'approved').map(([, e]) => e)).toEqual(['comment', 'extend', 'activate']);
  });

  it('ends an extension request as extended, only from pending', () => {
    expect(cases.filter(([, , to]) => to === 'extended').map(([from]) => from)).toEqual(['pending']);
  });

  it('lets a scheduled grant be withdrawn (cancel_scheduled) only from approved, into cancelled', () => {
    expect(cases.filter(([, event, to]) => event === 'cancel_scheduled' && !String(to).startsWith('request_')).map(([from, , to]) => [from, to])).toEqual([['approved', 'cancelled']]);
  });
});
