import { describe, expect, it } from 'vitest';
import { describeEvent, formatDuration, formatInstant, personLabel, singleLine, type Audience } from '../src/modules/notifications/event-text.ts';
import { renderInApp } from '../src/modules/notifications/in-app.ts';
import { ALL_TYPES, HOSTILE, hostilePayload, payloadFor } from './notifications-payloads.ts';

describe('wording helpers', () => {
  it.each([
    [1, '1 minute'],
    [30, '30 minutes'],
    [60, '1 hour'],
    [90, '1 hour 30 minutes'],
    [240, '4 hours'],
    [1440, '1 day'],
    [4320, '3 days'],
    [10_080, '1 week'],
    [10_080 + 1440 + 1, '1 week 1 day'],
    [525_600, '52 weeks 1 day'],
    [0, '0 minutes'],
  ])('formatDuration(%i) = %s', (mins, text) => {
    expect(formatDuration(mins)).toBe(text);
  });

  it('formats instants in UTC and leaves nonsense alone', () => {
    expect(formatInstant('2026-03-01T14:05:59.999Z')).toBe('2026-03-01 14:05 UTC');
    expect(formatInstant('2026-03-01T16:05:00+02:00')).toBe('2026-03-01 14:05 UTC');
    expect(formatInstant('soon')).toBe('soon');
  });

  it('keeps names on one line', () => {
    expect(singleLine('a\r\nb\tc\u2028d  e\u0000f')).toBe('a b c d e f');
    expect(personLabel({ name: 'Ada\nLovelace', email: 'ada@example.test' })).toBe('Ada Lovelace (ada@example.test)');
    expect(personLabel({ name: '  ', email: 'ada@example.test' })).toBe('ada@example.test');
  });

  it('asks for a decision only from approvers of a pending submission, escalation or next stage', () => {
    const audiences: Audience[] = ['approver', 'requester', 'watcher'];
    for (const type of ALL_TYPES) {
      for (const audience of audiences) {
        const asks =
          type === 'access_request.submitted' || type === 'access_request.escalated' || type === 'access_request.stage_approved' || type === 'access_request.extension_requested';
        const expected = audience === 'approver' && asks;
        expect(describeEvent(payloadFor(type), audience).decide, `${type} ${audience}`).toBe(expected);
      }
    }
    expect(describeEvent(payloadFor('access_request.submitted', { request: { status: 'cancelled' } }), 'approver').decide).toBe(false);
  });

  it('tells the requester when they gave access back themselves', () => {
    const own = payloadFor('access_request.revoked', { actor: { type: 'user', id: 'u-req', email: 'ada@example.test', name: 'Ada Lovelace' } });
    expect(describeEvent(own, 'requester').summary).toBe('You gave back your access to Prod DB (Production access).');
    expect(describeEvent(own, 'watcher').summary).toBe('Ada Lovelace (ada@example.test) gave back their access to Prod DB (Production access).');
  });
});

describe('renderInApp', () => {
  it.each(ALL_TYPES)('%s has a title, a body and the event type as kind', (type) => {
    const n = renderInApp(payloadFor(type), 'requester');
    expect(n.kind).toBe(type);
    expect(n.title.length).toBeGreaterThan(5);
    expect(n.body).toMatch(/Prod DB/);
  });

  it('stays plain text: the portal escapes it, so it is not escaped twice', () => {
    const n = renderInApp(hostilePayload('access_request.comment_added'), 'requester');
    expect(n.body).toContain(`Comment: ${HOSTILE.comment}`);
    expect(n.body).not.toContain('&lt;');
  });
});
