import type { InboxItem, RequestStatus } from '../../api/types.ts';
import { TextArea } from '../../components/Field.tsx';
import { answerText, humanKey, StatusBadge } from '../../components/RequestBits.tsx';
import { Time } from '../../components/Time.tsx';
import { formatDuration } from '../../lib/format.ts';
import { Link } from '../../router.tsx';

/** What happened to a row decided from the inbox. */
export interface RowOutcome {
  tone: 'success' | 'danger' | 'warning';
  message: string;
  status?: RequestStatus;
}

export interface RowState {
  current: boolean;
  selected: boolean;
  busy: boolean;
  commentOpen: boolean;
  comment: string;
  outcome: RowOutcome | undefined;
}

export interface RowHandlers {
  onFocusRow: () => void;
  onSelect: (selected: boolean) => void;
  onDecide: (decision: 'approve' | 'deny') => void;
  onToggleComment: () => void;
  onComment: (text: string) => void;
  /** Esc in the comment: back to the row, where the shortcuts work again. */
  onLeaveComment: () => void;
}

/** "Alice's request for Prod DB": how a row is named to screen readers, in labels and announcements. */
export const rowName = (r: InboxItem) => `${r.requester.name || r.requester.email}'s request for ${r.template_name}`;

/** A row may go into a bulk decision when its template allows it and it still waits for this approver. */
export const bulkEligible = (r: InboxItem, outcome: RowOutcome | undefined) => r.allow_bulk_decisions && r.status === 'pending' && !outcome;

/** One pending request with its decision right here: approve, deny, an optional comment, and selection for bulk. */
export function InboxRow({ request: r, state, on }: { request: InboxItem; state: RowState; on: RowHandlers }) {
  const answers = Object.entries(r.fields);
  const name = rowName(r);
  const open = r.status === 'pending' && !state.outcome;
  const classes = ['card', 'inbox-item', r.escalated ? 'is-escalated' : '', state.current ? 'is-current' : '', state.outcome ? `is-decided tone-${state.outcome.tone}` : ''];
  return (
    <li className={classes.filter(Boolean).join(' ')} data-request-id={r.id} tabIndex={-1} aria-label={name} aria-current={state.current || undefined} onFocus={on.onFocusRow}>
      <div className="inbox-select">
        {bulkEligible(r, state.outcome) && <input type="checkbox" aria-label={`Select ${name}`} checked={state.selected} onChange={(e) => on.onSelect(e.target.checked)} />}
      </div>
      <div className="request-row-main">
        <p className="eyebrow">
          {r.requester.name} · <Time iso={r.created_at} />
        </p>
        <h2 className="h3">
          <Link to={`/requests/${r.id}`}>{r.template_name}</Link>
        </h2>
        <p className="small muted">
          {r.app.name} · {r.kind === 'extension' ? `${formatDuration(r.duration_mins)} more (extension of an active grant)` : formatDuration(r.duration_mins)}
        </p>
        <p className="prewrap clamp">{r.justification || <span className="muted">No justification given.</span>}</p>
        {answers.length > 0 && (
          <ul className="answer-list" aria-label="Answers">
            {answers.map(([k, v]) => (
              <li key={k}>
                <span className="muted">{r.field_labels[k] ?? humanKey(k)}:</span> {answerText(v)}
              </li>
            ))}
          </ul>
        )}
        {open && state.commentOpen && (
          <div className="inbox-comment" onKeyDown={(e) => e.key === 'Escape' && on.onLeaveComment()}>
            <TextArea label="Comment" hint="Optional; the requester sees it with your decision." rows={2} maxLength={4000} value={state.comment} onChange={(e) => on.onComment(e.target.value)} data-comment-for={r.id} />
          </div>
        )}
        {state.outcome && <p className={`inbox-outcome tone-${state.outcome.tone}`}>{state.outcome.message}</p>}
      </div>
      <div className="request-row-side">
        <StatusBadge status={state.outcome?.status ?? r.status} escalated={r.escalated} />
        {open && (
          <div className="inbox-actions">
            <button type="button" className="btn btn-small btn-primary" disabled={state.busy} onClick={() => on.onDecide('approve')}>
              Approve<span className="visually-hidden"> {name}</span>
            </button>
            <button type="button" className="btn btn-small btn-danger" disabled={state.busy} onClick={() => on.onDecide('deny')}>
              Deny<span className="visually-hidden"> {name}</span>
            </button>
            <button type="button" className="btn btn-small" aria-expanded={state.commentOpen} onClick={on.onToggleComment}>
              Comment<span className="visually-hidden"> on {name}</span>
            </button>
          </div>
        )}
        <Link to={`/requests/${r.id}`} className="btn btn-ghost btn-small">
          {open ? 'Review' : 'Open'}
          {/* Named by the requester only: the heading link already carries the template's name. */}
          <span className="visually-hidden"> the request of {r.requester.name || r.requester.email}</span>
        </Link>
      </div>
    </li>
  );
}
