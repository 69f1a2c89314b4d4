import type { EventPayload } from '../event-payload/event-payload.types.ts';

/** The pieces of wording event-text.ts has already worked out for this event and reader. */
interface Said {
  mine: boolean;
  requester: string;
  actor: string;
  what: string;
  target: string;
  expires: string | null;
}

const instantOf = (value: unknown) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? `${new Date(Date.parse(value)).toISOString().slice(0, 16).replace('T', ' ')} UTC` : null);

/** The summary of a lapse or break-glass event (issue 12 §4, §5), for the requester or for others. */
export function describeLapseGlass(payload: EventPayload, s: Said): string {
  const due = instantOf(payload.data.review_due_at);
  switch (payload.type) {
    case 'access_request.lapsed':
      return s.mine
        ? `Nobody decided on your request for ${s.what} in time, so it has lapsed. You may ask again.`
        : `Nobody decided on ${s.requester}'s request for ${s.what} in time, so it has lapsed.`;
    case 'access_request.break_glass_activated': {
      const until = s.expires ? ` until ${s.expires}` : '';
      const review = due ? ` An approver must review it by ${due}.` : '';
      return s.mine
        ? `You granted yourself ${s.what} through break-glass${until}.${review}`
        : `${s.requester} granted themselves ${s.what} through break-glass${until}, without approval.${review}`;
    }
    case 'access_request.break_glass_reviewed': {
      const revoked = payload.data.outcome === 'revoked';
      const verdict = revoked ? 'and revoked it' : 'and found it justified';
      return s.mine ? `${s.actor} reviewed your break-glass access to ${s.target} ${verdict}.` : `${s.actor} reviewed ${s.requester}'s break-glass access to ${s.target} ${verdict}.`;
    }
    case 'access_request.break_glass_review_overdue':
      return s.mine
        ? `Your break-glass access to ${s.target} has not been reviewed in time; the approvers have been reminded.`
        : `${s.requester}'s break-glass access to ${s.target} was due for review${due ? ` by ${due}` : ''} and nobody has reviewed it yet.`;
    default:
      return '';
  }
}

/** Labelled extras of these events: the review's outcome and comment, the review deadline. */
export function lapseGlassExtras(payload: EventPayload): { label: string; value: string }[] {
  const extras: { label: string; value: string }[] = [];
  if (payload.type === 'access_request.break_glass_reviewed') {
    extras.push({ label: 'Outcome', value: payload.data.outcome === 'revoked' ? 'revoked' : 'reviewed' });
    if (typeof payload.data.comment === 'string') extras.push({ label: 'Comment', value: payload.data.comment });
  }
  if (payload.type === 'access_request.break_glass_activated' || payload.type === 'access_request.break_glass_review_overdue') {
    const due = instantOf(payload.data.review_due_at);
    if (due) extras.push({ label: 'Review due', value: due });
  }
  return extras;
}
