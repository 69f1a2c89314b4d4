import { useEffect, useState } from 'react';
import type { AccessRequest, FieldAnswer, Person, RequestStatus } from '../api/types.ts';
import { Link } from '../router.tsx';
import { formatClaimValue, formatCountdown, formatDuration, STATUS_LABEL } from '../lib/format.ts';
import { Time } from './Time.tsx';

export function StatusBadge({ status, escalated, scheduled }: { status: RequestStatus; escalated?: boolean; scheduled?: boolean }) {
  return (
    <span className="badges">
      {/* An approved grant waiting for its scheduled start is not active yet. */}
      <span className={`badge badge-${status}${scheduled ? ' badge-scheduled' : ''}`}>{scheduled ? 'Scheduled' : STATUS_LABEL[status]}</span>
      {escalated && <span className="badge badge-escalated">Escalated</span>}
    </span>
  );
}

/**
 * Time left on a grant, ticking every second. It counts down from the server's
 * seconds_left at the moment the data arrived, so a skewed browser clock does not matter.
 */
export function Countdown({ secondsLeft, receivedAt, expiresAt }: { secondsLeft: number; receivedAt: number; expiresAt: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const left = Math.max(0, secondsLeft - Math.max(0, now - receivedAt) / 1000);
  return (
    <span className="countdown">
      <span className="countdown-clock" role="timer" aria-live="off" data-testid="countdown">
        {left > 0 ? formatCountdown(left) : 'ending…'}
      </span>{' '}
      {/* The clock already says how long; the end's exact minute is the point here, so it shows inline (its zone on hover, as every time). */}
      <span className="muted small">left{expiresAt && <>, until <Time iso={expiresAt} absolute /></>}</span>
    </span>
  );
}

export const people = (list: Person[]) => (list.length ? list.map((p) => p.name || p.email).join(', ') : 'nobody yet');

/** "ticket" → "Ticket", "read_only" → "Read only". */
export const humanKey = (key: string) => key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, ' ');

export const answerText = (value: FieldAnswer) => (typeof value === 'boolean' ? (value ? 'Yes' : 'No') : value || '—');

/** Duration, justification, answers and what it grants: what an approver decides on. */
export function RequestFacts({ request }: { request: AccessRequest }) {
  const labels = request.field_labels;
  const answers = Object.entries(request.fields);
  return (
    <dl className="facts">
      <div>
        <dt>Application</dt>
        <dd>{request.app.name}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>{formatDuration(request.duration_mins)}</dd>
      </div>
      <div className="wide">
        <dt>Justification</dt>
        <dd className="prewrap">{request.justification || <span className="muted">none given</span>}</dd>
      </div>
      {answers.map(([key, value]) => (
        <div key={key}>
          <dt>{labels[key] ?? humanKey(key)}</dt>
          <dd>{answerText(value)}</dd>
        </div>
      ))}
      <div className="wide">
        <dt>Grants</dt>
        <dd>
          {request.grants.map((g) => (
            <code key={g.mapping_id} className="claim">
              {g.claim} = {formatClaimValue(g.value)}
            </code>
          ))}
        </dd>
      </div>
    </dl>
  );
}

/** A table cell's two lines for a person: the name, and the email under it. */
export function PersonLines({ person }: { person: Person }) {
  return (
    <>
      {person.name}
      <br />
      <span className="muted small">{person.email}</span>
    </>
  );
}

/** A table cell's two lines for a request: its template, linked to the request, and the application under it. */
export function RequestLines({ request }: { request: AccessRequest }) {
  return (
    <>
      <Link to={`/requests/${request.id}`}>{request.template_name}</Link>
      <br />
      <span className="muted small">{request.app.name}</span>
    </>
  );
}
