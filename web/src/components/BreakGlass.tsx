import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, post } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { AccessRequest, AccessRequestDetail, CustomField, FieldAnswer, Requestable } from '../api/types.ts';
import { formatDuration } from '../lib/format.ts';
import { Link, navigate } from '../router.tsx';
import { fieldErrorsOf, FormError, TextArea } from './Field.tsx';
import { useStepUp, withProof } from './StepUp.tsx';
import { Time } from './Time.tsx';

/**
 * Break-glass (issue 12 §5) in the portal: the self-grant on the request form, the review
 * on the request page, and the lapse note on a pending request.
 */

type RenderField = (field: CustomField, value: FieldAnswer | undefined, onChange: (v: FieldAnswer | undefined) => void, error: string | undefined) => ReactNode;

/** Answers to send: unanswered optional fields are left out; checkboxes always answer. */
function answersOf(fields: readonly CustomField[], answers: Record<string, FieldAnswer | undefined>): Record<string, FieldAnswer> {
  const out: Record<string, FieldAnswer> = {};
  for (const field of fields) {
    const value = answers[field.key];
    if (field.type === 'checkbox') out[field.key] = value === true;
    else if (typeof value === 'string' && value !== '') out[field.key] = value;
  }
  return out;
}

/**
 * The break-glass alternative beside a template's ordinary request form, with its warning.
 * The template's custom fields are asked again here (renderField draws them as the form does).
 */
export function BreakGlassPanel({ template, renderField }: { template: Requestable; renderField: RenderField }) {
  const client = useQueryClient();
  const [armed, setArmed] = useState(false);
  const [justification, setJustification] = useState('');
  const [answers, setAnswers] = useState<Record<string, FieldAnswer | undefined>>({});
  const maxMins = template.break_glass_max_mins ?? 60;
  const stepUp = useStepUp();
  const activate = useMutation({
    // Break-glass asks for step-up whenever the user has a second factor (DESIGN "Assurance").
    mutationFn: () => stepUp((proof) => post<AccessRequest>('/access-requests/break-glass', withProof({ template_id: template.id, justification, fields: answersOf(template.custom_fields, answers) }, proof))),
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: ['requests'] });
      navigate(`/requests/${created.id}`);
    },
  });
  const err = fieldErrorsOf(activate.error);
  const existing = activate.error instanceof ApiError && typeof activate.error.body.existing_request_id === 'string' ? activate.error.body.existing_request_id : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    activate.mutate();
  };
  if (!template.break_glass) return null;
  return (
    <section className="panel panel-danger break-glass" aria-labelledby="break-glass-heading">
      <h2 id="break-glass-heading">Break glass</h2>
      <p role="note" className="notice notice-warning">
        Emergency only. This grants you the access <strong>now, without approval</strong>, for up to {formatDuration(maxMins)}. Every administrator and approver is
        alerted at once, and an approver reviews what you did afterwards; the access can be revoked.
      </p>
      {!armed ? (
        <button type="button" className="btn btn-danger" onClick={() => setArmed(true)}>
          Break glass…
        </button>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Break-glass access">
          <FormError error={activate.error && !err('justification') ? activate.error : null} />
          {existing && (
            <p className="notice">
              <Link to={`/requests/${existing}`}>See the request in the way</Link>.
            </p>
          )}
          <TextArea
            label="Emergency justification"
            required
            hint="Required. What is broken, and why it cannot wait for an approver. Everyone alerted reads this."
            rows={3}
            value={justification}
            onChange={(e) => setJustification(e.target.value)}
            error={err('justification')}
            maxLength={4000}
          />
          {template.custom_fields.map((field) => (
            <div key={field.key}>{renderField(field, answers[field.key], (v) => setAnswers((a) => ({ ...a, [field.key]: v })), err(`fields.${field.key}`))}</div>
          ))}
          <div className="form-actions">
            <button type="submit" className="btn btn-danger" disabled={activate.isPending}>
              {activate.isPending ? 'Granting…' : `Grant me access now (${formatDuration(maxMins)})`}
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setArmed(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/** On the request page: break-glass status and, for a reviewer, the review form; for a pending request, when it lapses. */
export function BreakGlassSection({ request }: { request: AccessRequestDetail }) {
  const review = request.break_glass;
  return (
    <>
      {request.status === 'pending' && request.lapses_at && <p className="muted small lapse-note">Lapses <Time iso={request.lapses_at} /> if nobody decides.</p>}
      {request.status === 'lapsed' && <p className="lapse-note">Nobody decided in time, so this request lapsed <Time iso={request.ended_at} />. You may ask again.</p>}
      {review && (
        <section className="panel panel-danger" aria-labelledby="bg-review-heading">
          <div className="panel-head">
            <h2 id="bg-review-heading">Break-glass access</h2>
            <span className="badges">
              <span className="badge badge-break-glass">Break-glass</span>
              <span className={`badge badge-review-${review.review_state}`}>{REVIEW_LABEL[review.review_state]}</span>
              {review.review_overdue && <span className="badge badge-escalated">Review overdue</span>}
            </span>
          </div>
          <p>
            Granted by {request.requester.name} to themselves <Time iso={review.activated_at} />, without approval.{' '}
            {review.review_state === 'unreviewed' ? (
              <>
                An approver must review it by <Time iso={review.review_due_at} />.
              </>
            ) : (
              <>
                {review.review_state === 'revoked' ? 'Revoked' : 'Reviewed'} by {review.reviewed_by?.name ?? 'an approver'} <Time iso={review.reviewed_at} />.
              </>
            )}
          </p>
          {review.review_comment && <blockquote className="quote">{review.review_comment}</blockquote>}
          {request.can_review && <ReviewForm request={request} />}
        </section>
      )}
    </>
  );
}

const REVIEW_LABEL = { unreviewed: 'Not reviewed', reviewed: 'Reviewed', revoked: 'Revoked on review' } as const;

function ReviewForm({ request }: { request: AccessRequestDetail }) {
  const client = useQueryClient();
  const stepUp = useStepUp();
  const [comment, setComment] = useState('');
  const [needComment, setNeedComment] = useState(false);
  const review = useMutation({
    mutationFn: (outcome: 'reviewed' | 'revoked') => stepUp((proof) => post(`/access-requests/${request.id}/review`, withProof({ outcome, comment }, proof))),
    onSuccess: async () => {
      await Promise.all([client.invalidateQueries({ queryKey: keys.request(request.id) }), client.invalidateQueries({ queryKey: ['requests'] })]);
    },
  });
  const send = (outcome: 'reviewed' | 'revoked') => {
    if (!comment.trim()) {
      setNeedComment(true);
      return;
    }
    setNeedComment(false);
    review.mutate(outcome);
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        send('reviewed');
      }}
      noValidate
      aria-label="Review the break-glass access"
    >
      <FormError error={review.error && !fieldErrorsOf(review.error)('comment') ? review.error : null} />
      <TextArea
        label="Review comment"
        required
        hint="Required. What you checked; the requester and the audit trail see it."
        rows={3}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        error={needComment ? 'Say what you checked.' : fieldErrorsOf(review.error)('comment')}
        maxLength={4000}
      />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={review.isPending}>
          Mark as reviewed
        </button>
        <button type="button" className="btn btn-danger" disabled={review.isPending} onClick={() => send('revoked')}>
          {request.status === 'approved' ? 'Revoke the access' : 'Record as unjustified'}
        </button>
      </div>
    </form>
  );
}

/** On a catalogue card: when a request lapses, and that break-glass is on offer. */
export function LapseGlassFacts({ template }: { template: Requestable }) {
  return (
    <>
      {template.pending_ttl_mins !== null && (
        <div>
          <dt>Lapses</dt>
          <dd>after {formatDuration(template.pending_ttl_mins)} without a decision</dd>
        </div>
      )}
      {template.break_glass && (
        <div>
          <dt>Emergency</dt>
          <dd>
            <span className="badge badge-break-glass">Break-glass</span> up to {formatDuration(template.break_glass_max_mins ?? 0)}, reviewed afterwards
          </dd>
        </div>
      )}
    </>
  );
}
