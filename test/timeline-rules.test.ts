import { describe, expect, it } from 'vitest';
import { buildTimeline, type AuditFact, type NoticeFact, type OutboxFact, type Person, type TimelineFacts } from '../src/modules/requests/timeline.ts';

// The pure rule behind a request's timeline (requests/timeline.ts): which stored facts become
// which steps, in what order, with whom and why.
const T0 = Date.parse('2026-12-04T10:00:00Z');
const MIN = 60_000;
const people: Person[] = [
  { id: 'req', email: 'rita@example.com', name: 'Rita Requester' },
  { id: 'ann', email: 'ann@example.com', name: 'Ann Approver' },
  { id: 'bob', email: 'bob@example.com', name: 'Bob Approver' },
  { id: 'esc', email: 'eve@example.com', name: 'Eve Escalation' },
];
const R = 'request-1';
let seq = 0;
const audit = (action: string, min: number, actor: string | null, data: Record<string, unknown> = {}, request_id = R): AuditFact => ({
  seq: ++seq,
  at: T0 + min * MIN,
  actor_id: actor,
  action: `access_request.${action}`,
  request_id,
  data,
});
const event = (id: string, type: string, min: number, request_id = R): OutboxFact => ({ id, type: `access_request.${type}`, request_id, at: T0 + min * MIN });
const facts = (a: AuditFact[], outbox: OutboxFact[] = [], notices: NoticeFact[] = []): TimelineFacts => ({ requestId: R, audit: a, outbox, notices, people: new Map(people.map((p) => [p.id, p])) });
const steps = (f: TimelineFacts) => buildTimeline(f).map((e) => [e.kind, e.actor?.id ?? null]);

describe('buildTimeline', () => {
  it('tells a granted, extended and revoked request in order, with actors, comments, reasons and notices', () => {
    const a = [
      audit('submitted', 0, 'req', { duration_mins: 60, justification: 'INC-1' }),
      audit('escalated', 30, null),
      audit('approved', 35, 'esc', { comment: 'ok for the incident', auto: false, expires_at: '2026-12-04T11:35:00Z' }),
      audit('activated', 35, 'esc', { expires_at: '2026-12-04T11:35:00Z', scheduled: false }),
      audit('comment_added', 36, 'req', { comment_id: 'c1' }),
      audit('extension_requested', 90, 'req', { duration_mins: 30, justification: 'still fixing', expires_at: '2026-12-04T12:05:00Z' }, 'ext-1'),
      audit('extended', 95, 'ann', { extension_id: 'ext-1', duration_mins: 30, comment: null, expires_at: '2026-12-04T12:05:00Z' }),
      audit('revoked', 100, 'bob', { end_reason: 'manual', reason: 'incident closed' }),
    ];
    const outbox = [event('e1', 'submitted', 0), event('e2', 'escalated', 30), event('e3', 'approved', 35), event('e4', 'activated', 35), event('e5', 'comment_added', 36), event('e6', 'extension_requested', 90, 'ext-1'), event('e7', 'extended', 95), event('e8', 'revoked', 100)];
    const notices: NoticeFact[] = [
      { event_id: 'e1', channel: 'in_app', user_id: 'ann' },
      { event_id: 'e1', channel: 'in_app', user_id: 'bob' },
      { event_id: 'e1', channel: 'email', address: 'ann@example.com' },
      { event_id: 'e1', channel: 'email', address: 'BOB@example.com' },
      { event_id: 'e1', channel: 'slack' },
      { event_id: 'e1', channel: 'email', address: 'watchers@example.com' },
      { event_id: 'e2', channel: 'in_app', user_id: 'esc' },
      { event_id: 'e3', channel: 'in_app', user_id: 'req' },
      { event_id: 'e3', channel: 'email', address: 'rita@example.com' },
      { event_id: 'e5', channel: 'in_app', user_id: 'ann' },
      { event_id: 'e6', channel: 'in_app', user_id: 'ann' },
      { event_id: 'e8', channel: 'in_app', user_id: 'req' },
    ];
    const timeline = buildTimeline(facts(a, outbox, notices));
    expect(timeline.map((e) => [e.kind, e.actor?.name ?? null, e.cause])).toEqual([
      ['submitted', 'Rita Requester', null],
      ['notified', null, 'submitted'],
      ['escalated', null, null],
      ['notified', null, 'escalated'],
      ['approved', 'Eve Escalation', null],
      ['notified', null, 'approved'],
      ['activated', 'Eve Escalation', null],
      ['extension_requested', 'Rita Requester', null],
      ['notified', null, 'extension_requested'],
      ['extended', 'Ann Approver', null],
      ['revoked', 'Bob Approver', null],
      ['notified', null, 'revoked'],
    ]);
    const [submitted, notified] = timeline;
    expect(submitted).toMatchObject({ at: '2026-12-04T10:00:00.000Z', duration_mins: 60, comment: null, auto: false });
    // People first (in-app and their address merged into one line), then bare addresses, then Slack.
    expect(notified!.recipients).toEqual([
      { person: people[1], address: null, channels: ['in_app', 'email'] },
      { person: people[2], address: null, channels: ['in_app', 'email'] },
      { person: null, address: 'watchers@example.com', channels: ['email'] },
      { person: null, address: null, channels: ['slack'] },
    ]);
    expect(timeline[4]).toMatchObject({ comment: 'ok for the incident', expires_at: '2026-12-04T11:35:00.000Z' });
    expect(timeline[7]).toMatchObject({ comment: 'still fixing', duration_mins: 30, extension_id: 'ext-1' });
    expect(timeline[9]).toMatchObject({ duration_mins: 30, extension_id: 'ext-1', expires_at: '2026-12-04T12:05:00.000Z' });
    expect(timeline[10]).toMatchObject({ reason: 'incident closed', at: '2026-12-04T11:40:00.000Z' });
  });

  it('tells a denial with its comment, and each stage vote with its own comment', () => {
    const a = [
      audit('submitted', 0, 'req'),
      audit('stage_approved', 5, 'ann', { stage: 1, next_stage: 2, approvals: [{ approver_id: 'bob', comment: 'not mine' }, { approver_id: 'ann', comment: 'fine by me' }] }),
      audit('denied', 9, 'bob', { comment: 'not during the freeze' }),
    ];
    const timeline = buildTimeline(facts(a));
    expect(timeline.map((e) => [e.kind, e.actor?.id, e.comment, e.stage])).toEqual([
      ['submitted', 'req', null, null],
      ['stage_approved', 'ann', 'fine by me', 1],
      ['denied', 'bob', 'not during the freeze', null],
    ]);
  });

  it('orders by the audit sequence, not by the order the facts arrive in', () => {
    const a = [audit('submitted', 0, 'req'), audit('approved', 0, null, { auto: true }), audit('expired', 60, null, { end_reason: 'automatic' })];
    const timeline = buildTimeline(facts([a[2]!, a[0]!, a[1]!]));
    expect(timeline.map((e) => [e.kind, e.actor, e.auto])).toEqual([
      ['submitted', people[0], false],
      ['approved', null, true],
      ['expired', null, false],
    ]);
  });

  it('words provisioning failures, reverts, lapses, cancellations and break-glass steps', () => {
    const a = [
      audit('submitted', 0, 'req'),
      audit('provisioning_started', 1, 'ann'),
      audit('provisioning_failed', 2, 'ann', { error: 'script exited 1', script_run_id: 'run-1' }),
      audit('provisioning_timed_out', 3, null),
      audit('provisioning_reverted', 4, null, { reason: 'the approver left the group', status: 'pending' }),
      audit('cancelled', 5, 'req', { reason: 'no longer needed' }),
      audit('lapsed', 6, null, { pending_ttl_mins: 60 }),
      audit('break_glass_activated', 7, 'req'),
      audit('break_glass_reviewed', 8, 'ann', { comment: 'justified' }),
    ];
    expect(buildTimeline(facts(a)).map((e) => [e.kind, e.reason, e.comment])).toEqual([
      ['submitted', null, null],
      ['provisioning_started', null, null],
      ['provisioning_failed', 'script exited 1', null],
      ['provisioning_timed_out', 'the trigger task did not answer in time', null],
      ['provisioning_reverted', 'the approver left the group', null],
      ['cancelled', 'no longer needed', null],
      ['lapsed', null, null],
      ['break_glass_activated', null, null],
      ['break_glass_reviewed', null, 'justified'],
    ]);
  });

  it('leaves out comments (the discussion shows them) and their notices, other audit actions, and an extension’s own approval', () => {
    const a = [
      audit('submitted', 0, 'req'),
      audit('comment_added', 1, 'ann'),
      { ...audit('submitted', 2, 'req'), action: 'user.updated' },
      audit('approved', 3, 'ann', {}, 'ext-1'),
      audit('extension_denied', 4, 'ann', { comment: 'no' }, 'ext-1'),
    ];
    const outbox = [event('c', 'comment_added', 1)];
    expect(steps(facts(a, outbox, [{ event_id: 'c', channel: 'in_app', user_id: 'req' }]))).toEqual([
      ['submitted', 'req'],
      ['extension_denied', 'ann'],
    ]);
  });

  it('a notice of an event with no audit step goes where its time puts it; events that told nobody add nothing', () => {
    const a = [audit('submitted', 0, 'req'), audit('expired', 60, null)];
    const outbox = [event('w', 'expiring_soon', 50), event('x', 'submitted', 0), event('q', 'expiring_soon', 55)];
    const notices: NoticeFact[] = [{ event_id: 'w', channel: 'in_app', user_id: 'req' }];
    const timeline = buildTimeline(facts(a, outbox, notices));
    expect(timeline.map((e) => [e.kind, e.cause])).toEqual([
      ['submitted', null],
      ['notified', 'expiring_soon'],
      ['expired', null],
    ]);
    expect(timeline[1]!.at).toBe('2026-12-04T10:50:00.000Z');
  });

  it('a step’s notices carry the step’s time, so the timeline stays in time order when the outbox stamped its event later', () => {
    const a = [audit('approved', 0, 'ann'), audit('activated', 0, 'ann')];
    const late = { ...event('e', 'approved', 0), at: T0 + 20 };
    const timeline = buildTimeline(facts(a, [late], [{ event_id: 'e', channel: 'in_app', user_id: 'req' }]));
    expect(timeline.map((e) => [e.kind, e.at])).toEqual([
      ['approved', '2026-12-04T10:00:00.000Z'],
      ['notified', '2026-12-04T10:00:00.000Z'],
      ['activated', '2026-12-04T10:00:00.000Z'],
    ]);
  });

  it('matches repeated events of one type in order, and names a deleted user', () => {
    const a = [audit('submitted', 0, 'req'), audit('stage_approved', 1, 'ann', { stage: 1 }), audit('stage_approved', 2, 'gone', { stage: 2 })];
    const outbox = [event('s2', 'stage_approved', 2), event('s1', 'stage_approved', 1), event('s0', 'submitted', 0)];
    const notices: NoticeFact[] = [
      { event_id: 's1', channel: 'in_app', user_id: 'bob' },
      { event_id: 's2', channel: 'in_app', user_id: 'esc' },
    ];
    const timeline = buildTimeline(facts(a, outbox, notices));
    expect(timeline.map((e) => [e.kind, e.actor?.name ?? null, e.recipients.map((r) => r.person?.id)])).toEqual([
      ['submitted', 'Rita Requester', []],
      ['stage_approved', 'Ann Approver', []],
      ['notified', null, ['bob']],
      ['stage_approved', '(deleted user)', []],
      ['notified', null, ['esc']],
    ]);
  });

  it('an empty history is an empty timeline; bad data fields are left empty', () => {
    expect(buildTimeline(facts([]))).toEqual([]);
    const [entry] = buildTimeline(facts([audit('approved', 0, 'ann', { comment: '', expires_at: 'soon', duration_mins: 1.5, stage: 'two' })]));
    expect(entry).toMatchObject({ comment: null, expires_at: null, duration_mins: null, stage: null });
  });
});
