import { randomInt } from 'node:crypto';
import type { EventPayload, RequestEventName } from '../event-payload/event-payload.types.ts';
import type { NOTIFICATION_POLICIES } from '../templates/templates.types.ts';

export type NotificationPolicy = (typeof NOTIFICATION_POLICIES)[number];

export interface SelectApproversInput {
  policy: NotificationPolicy;
  /** N for first_n and random_n (counted after the requester is left out). */
  count: number;
  /**
   * The approver groups in template order, each an ordered list of live member user ids
   * (by membership created_at, then user id). A user may appear in several pools.
   */
  pools: readonly (readonly string[])[];
  requesterId: string;
  /** A number in [0, 1), as Math.random gives. Tests pass a seeded one. */
  random?: () => number;
  /** Where round_robin stands for this template and pool; ignored by the other policies. */
  position?: number;
}

export interface SelectedApprovers {
  userIds: string[];
  /** The position to store for the next request: position + 1 after a round_robin pick, else unchanged. */
  nextPosition: number;
}

// randomInt takes a range below 2^48.
const RANDOM_RANGE = 2 ** 47;
/** Uniform in [0, 1) from the CSPRNG, so nobody can predict who gets asked. */
export const secureRandom = (): number => randomInt(RANDOM_RANGE) / RANDOM_RANGE;

/** Every pool flattened in order, each user once, the requester left out. */
function candidatesOf(pools: SelectApproversInput['pools'], requesterId: string): string[] {
  const seen = new Set<string>([requesterId]);
  const out: string[] = [];
  for (const pool of pools) {
    for (const userId of pool) {
      if (seen.has(userId)) continue;
      seen.add(userId);
      out.push(userId);
    }
  }
  return out;
}

/** k distinct elements by a partial Fisher–Yates shuffle; order is the draw order. */
function drawDistinct(items: readonly string[], k: number, random: () => number): string[] {
  const pool = [...items];
  const n = Math.min(k, pool.length);
  for (let i = 0; i < n; i++) {
    // Clamp: a bad random() returning 1 must not index past the end.
    const j = i + Math.min(Math.floor(random() * (pool.length - i)), pool.length - i - 1);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

/**
 * Which approvers hear about a request. Pure: the caller loads the pools and stores the
 * next round_robin position. The requester is removed before anything is counted, so
 * N means N people other than the requester, and the requester is never picked.
 */
export function selectApprovers(input: SelectApproversInput): SelectedApprovers {
  const position = input.position ?? 0;
  const count = Math.max(0, Math.floor(input.count));
  switch (input.policy) {
    case 'all':
      return { userIds: candidatesOf(input.pools, input.requesterId), nextPosition: position };
    case 'first_n':
      return { userIds: candidatesOf(input.pools.slice(0, 1), input.requesterId).slice(0, count), nextPosition: position };
    case 'random_n':
      return { userIds: drawDistinct(candidatesOf(input.pools, input.requesterId), count, input.random ?? secureRandom), nextPosition: position };
    case 'round_robin': {
      const candidates = candidatesOf(input.pools, input.requesterId);
      // Nobody to ask: keep the turn where it is rather than skip someone.
      if (candidates.length === 0) return { userIds: [], nextPosition: position };
      const index = ((position % candidates.length) + candidates.length) % candidates.length;
      return { userIds: [candidates[index]!], nextPosition: position + 1 };
    }
  }
}

/** Events the requester hears about. Comments only when someone else wrote them. */
const REQUESTER_EVENTS: ReadonlySet<RequestEventName> = new Set([
  'access_request.approved',
  'access_request.denied',
  'access_request.revoked',
  'access_request.expired',
  'access_request.expiring_soon',
  'access_request.comment_added',
  'access_request.provisioning_reverted',
  'access_request.lapsed',
  'access_request.break_glass_reviewed',
]);

/**
 * Does the requester get a notice of this event? Nobody is told about their own action:
 * a comment the requester wrote, or a grant they gave back themselves, tells them nothing.
 */
export function notifiesRequester(payload: Pick<EventPayload, 'type' | 'actor' | 'request'>): boolean {
  if (!REQUESTER_EVENTS.has(payload.type)) return false;
  return payload.actor.id === null || payload.actor.id !== payload.request.requester.id;
}

/** The approver stage an event asks for a decision at: approvers on submission, the escalation group on escalation. */
export function approverStageOf(type: RequestEventName): 'submitted' | 'escalated' | null {
  if (type === 'access_request.submitted') return 'submitted';
  if (type === 'access_request.escalated') return 'escalated';
  return null;
}
