import { REQUEST_EVENT_TYPES, type EventPayload, type RequestEventName } from '../src/modules/event-payload/event-payload.types.ts';

/** Event payloads for the renderer tests: a plain one per event type, and a hostile one. */

export const BASE_URL = 'https://interim.example.test';
export const REQUEST_ID = '01972f4e-8c1a-7b3e-9a10-0123456789ab';

const STATUS: Record<RequestEventName, string> = {
  'access_request.submitted': 'pending',
  'access_request.escalated': 'pending',
  'access_request.approved': 'approved',
  'access_request.denied': 'denied',
  'access_request.cancelled': 'cancelled',
  'access_request.expiring_soon': 'approved',
  'access_request.expired': 'expired',
  'access_request.revoked': 'revoked',
  'access_request.comment_added': 'pending',
  'access_request.provisioning_reverted': 'cancelled',
  'access_request.lapsed': 'lapsed',
  'access_request.break_glass_activated': 'approved',
  'access_request.break_glass_reviewed': 'approved',
  'access_request.break_glass_review_overdue': 'approved',
  'access_request.stage_approved': 'pending',
  'access_request.extension_requested': 'pending',
  'access_request.extended': 'approved',
  'access_request.extension_denied': 'denied',
  'access_request.activated': 'approved',
};

const ACTOR: Record<RequestEventName, EventPayload['actor']> = {
  'access_request.submitted': { type: 'user', id: 'u-req', email: 'ada@example.test', name: 'Ada Lovelace' },
  'access_request.escalated': { type: 'system', id: null, email: null, name: null },
  'access_request.approved': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.denied': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.cancelled': { type: 'user', id: 'u-req', email: 'ada@example.test', name: 'Ada Lovelace' },
  'access_request.expiring_soon': { type: 'system', id: null, email: null, name: null },
  'access_request.expired': { type: 'system', id: null, email: null, name: null },
  'access_request.revoked': { type: 'user', id: 'u-adm', email: 'root@example.test', name: 'Root Admin' },
  'access_request.comment_added': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.provisioning_reverted': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.lapsed': { type: 'system', id: null, email: null, name: null },
  'access_request.break_glass_activated': { type: 'user', id: 'u-req', email: 'ada@example.test', name: 'Ada Lovelace' },
  'access_request.break_glass_reviewed': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.break_glass_review_overdue': { type: 'system', id: null, email: null, name: null },
  'access_request.stage_approved': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.extension_requested': { type: 'user', id: 'u-req', email: 'ada@example.test', name: 'Ada Lovelace' },
  'access_request.extended': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.extension_denied': { type: 'user', id: 'u-app', email: 'grace@example.test', name: 'Grace Hopper' },
  'access_request.activated': { type: 'system', id: null, email: null, name: null },
};

export function payloadFor(type: RequestEventName, over: { request?: Partial<EventPayload['request']>; data?: Record<string, unknown>; actor?: EventPayload['actor'] } = {}): EventPayload {
  const granted = ['access_request.approved', 'access_request.expiring_soon', 'access_request.expired', 'access_request.revoked'].includes(type);
  return {
    id: '01972f4e-9999-7b3e-9a10-0123456789ab',
    type,
    occurred_at: '2026-03-01T10:00:00.000Z',
    actor: over.actor ?? ACTOR[type],
    request: {
      id: REQUEST_ID,
      status: STATUS[type],
      url: `${BASE_URL}/requests/${REQUEST_ID}`,
      template_id: 't-1',
      template_name: 'Production access',
      app: { id: 'a-1', name: 'Prod DB' },
      requester: { id: 'u-req', email: 'ada@example.test', name: 'Ada Lovelace' },
      duration_mins: 240,
      justification: 'INC-1234: replica lag in eu-west',
      fields: { ticket: 'INC-1234', read_only: true },
      grants: [{ mapping_id: 'm-1', claim: 'role', value: 'prod-admin' }],
      approved_at: granted ? '2026-03-01T10:00:00.000Z' : null,
      expires_at: granted ? '2026-03-01T14:00:00.000Z' : null,
      decision_comment: type === 'access_request.denied' ? 'Use the read replica instead' : null,
      end_reason: type === 'access_request.expired' ? 'automatic' : type === 'access_request.revoked' ? 'manual' : null,
      revoke_reason: type === 'access_request.revoked' ? 'incident closed' : null,
      escalated: type === 'access_request.escalated',
      ...over.request,
    },
    data: over.data ?? (type === 'access_request.comment_added' ? { body: 'Which replica?' } : type === 'access_request.approved' ? { auto: false } : {}),
  };
}

export const ALL_TYPES = REQUEST_EVENT_TYPES;

export const HOSTILE = {
  justification: '<script>alert(1)</script> & <!channel> <https://evil.example|click here> "quoted" \'single\'',
  name: '<b>Mallory</b> <!here>',
  template: 'Prod"><img src=x onerror=alert(1)>\r\nBcc: victim@example.test',
  app: 'App & <i>Co</i>',
  field: '<a href="https://evil.example">x</a>',
  comment: '</div><script>steal()</script> <@U123> <#C123>',
};

/** A submitted event whose every user-controlled string tries to break out of its medium. */
export function hostilePayload(type: RequestEventName = 'access_request.submitted'): EventPayload {
  const p = payloadFor(type, {
    request: {
      justification: HOSTILE.justification,
      template_name: HOSTILE.template,
      app: { id: 'a-1', name: HOSTILE.app },
      requester: { id: 'u-req', email: 'mallory@example.test', name: HOSTILE.name },
      fields: { ticket: HOSTILE.field, '<key>': '<value>' },
      decision_comment: HOSTILE.comment,
      revoke_reason: HOSTILE.comment,
    },
    data: { body: HOSTILE.comment },
    actor: { type: 'user', id: 'u-x', email: 'x@example.test', name: HOSTILE.name },
  });
  return p;
}
