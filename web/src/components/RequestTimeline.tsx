import type { ReactNode } from 'react';
import type { AccessRequestDetail, Person, TimelineEntry, TimelineRecipient } from '../api/types.ts';
import { formatDuration } from '../lib/format.ts';
import { Time } from './Time.tsx';

const nameOf = (p: Person | null, fallback = 'Interim') => (p ? p.name || p.email : fallback);

const CHANNEL: Record<TimelineRecipient['channels'][number], string> = { in_app: 'in the app', email: 'by e-mail', slack: 'on Slack' };

function recipientText(r: TimelineRecipient): string {
  const how = r.channels.map((c) => CHANNEL[c]).join(' and ');
  if (r.person) return `${nameOf(r.person)} (${how})`;
  if (r.address) return `${r.address} (${how})`;
  return 'a Slack channel';
}

/** One step in words: what happened and who did it. */
function whatHappened(e: TimelineEntry): ReactNode {
  const who = nameOf(e.actor);
  const more = e.duration_mins !== null ? formatDuration(e.duration_mins) : '';
  switch (e.kind) {
    case 'submitted':
      return `${who} submitted the request${more ? `, for ${more}` : ''}`;
    case 'notified':
      return `Notified ${e.recipients.map(recipientText).join(', ')}`;
    case 'escalated':
      return `Escalated${e.stage ? ` in stage ${e.stage}` : ''}: no decision in time`;
    case 'stage_approved':
      return `${who} approved stage ${e.stage ?? ''}`;
    case 'approved':
      return e.auto ? 'Approved automatically, by the template’s rules' : `${who} approved it`;
    case 'activated':
      return 'Access started';
    case 'denied':
      return `${who} denied it`;
    case 'extension_requested':
      return `${who} asked for ${more || 'more time'} more`;
    case 'extension_denied':
      return `${who} refused the extension`;
    case 'extended':
      return (
        <>
          {e.auto ? `Extended automatically by ${more}` : `${who} extended it by ${more}`}
          {/* The new end as a date: "until in 32 min" would read badly, and the exact minute is the point. */}
          {e.expires_at && <>, to <Time iso={e.expires_at} absolute /></>}
        </>
      );
    case 'expiring_soon':
      return 'Reminded: the access ends soon';
    case 'expired':
      return 'Time up: the access ended';
    case 'revoked':
      return `${who} revoked the access`;
    case 'cancelled':
      return `${who} withdrew it`;
    case 'lapsed':
      return 'Lapsed without a decision';
    case 'provisioning_started':
      return 'Provisioning started';
    case 'provisioning_failed':
      return 'Provisioning failed: nothing was granted';
    case 'provisioning_timed_out':
      return 'Provisioning timed out';
    case 'provisioning_reverted':
      return 'Nothing was granted after all';
    case 'break_glass_activated':
      return `Break-glass access used by ${who}`;
    case 'break_glass_reviewed':
      return `Break-glass use reviewed by ${who}`;
    case 'break_glass_review_overdue':
      return 'Break-glass review overdue';
    default:
      return e.kind.replaceAll('_', ' ');
  }
}

/**
 * The request's whole story, oldest first (issue 14 §3): each step with who did it and when,
 * the comment or reason given, and who was notified how. An ordered list, so screen readers
 * announce "n of m"; times are <Time> (relative, the absolute time and zone on hover).
 */
export function RequestTimeline({ request }: { request: AccessRequestDetail }) {
  return (
    <section className="panel" aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      {request.timeline.length === 0 ? (
        <p className="muted">Nothing recorded yet.</p>
      ) : (
        <ol className="timeline" aria-label="Timeline">
          {request.timeline.map((e, i) => (
            <li key={i} className={`timeline-step timeline-${e.kind}`}>
              <span className="timeline-what">{whatHappened(e)}</span> <span className="timeline-when muted small"><Time iso={e.at} /></span>
              {e.comment && (
                <blockquote className="quote">
                  <span className="visually-hidden">{e.kind === 'extension_requested' ? 'Justification: ' : 'Comment: '}</span>
                  {e.comment}
                </blockquote>
              )}
              {e.reason && <p className="timeline-reason">Reason: {e.reason}</p>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
