import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, post } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { AccessRequest, AccessRequestDetail } from '../api/types.ts';
import { formatDuration } from '../lib/format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { fieldErrorsOf, Fieldset, FormError, TextArea } from './Field.tsx';

/**
 * "Extend this access" on the requester's own active grant (issue 12 §2): one of the
 * template's durations that still fits its total limit, and a justification. The expiry
 * notice links here with ?extend=1, which brings the form into view and focuses it.
 */
export function ExtendGrant({ request }: { request: AccessRequestDetail }) {
  const options = request.extension!;
  const client = useQueryClient();
  const { search } = useLocation();
  const fromNotice = search.get('extend') === '1';
  const fits = options.durations.filter((d) => options.remaining_mins === null || d <= options.remaining_mins);
  const [duration, setDuration] = useState<number | null>(fits[0] ?? null);
  const [justification, setJustification] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!fromNotice || !heading.current) return;
    heading.current.scrollIntoView({ block: 'center' });
    heading.current.focus();
  }, [fromNotice]);

  const extend = useMutation({
    mutationFn: () => post<AccessRequest>(`/access-requests/${request.id}/extensions`, { duration_mins: duration, justification }),
    onSuccess: async (created) => {
      await Promise.all([client.invalidateQueries({ queryKey: keys.request(request.id) }), client.invalidateQueries({ queryKey: ['requests'] })]);
      // Granted at once: the grant's page shows the new end. Otherwise the extension waits on its own page.
      if (created.status === 'pending') navigate(`/requests/${created.id}`);
    },
  });
  const err = fieldErrorsOf(extend.error);
  const pending = options.open_extension_id ?? (extend.error instanceof ApiError && typeof extend.error.body.existing_request_id === 'string' ? extend.error.body.existing_request_id : null);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    extend.mutate();
  };

  return (
    <section className={`panel${fromNotice ? ' panel-accent' : ''}`} aria-labelledby="extend-heading">
      <h2 id="extend-heading" ref={heading} tabIndex={-1}>
        Extend this access
      </h2>
      {pending ? (
        <p className="notice">
          An extension is waiting for a decision. <Link to={`/requests/${pending}`}>Open the extension request</Link>.
        </p>
      ) : fits.length === 0 ? (
        <p className="muted">This grant has reached the longest time its template allows ({formatDuration(options.max_total_mins ?? 0)} in total).</p>
      ) : (
        <form onSubmit={onSubmit} noValidate aria-label="Extend this access">
          <FormError error={extend.error && !err('justification') && !err('duration_mins') ? extend.error : null} />
          <Fieldset
            legend="How much longer?"
            error={err('duration_mins')}
            hint={`${options.requires_approval ? 'Approvers decide; the access stays live meanwhile.' : 'Granted at once.'}${
              options.remaining_mins !== null ? ` At most ${formatDuration(options.remaining_mins)} more.` : ''
            }`}
          >
            <div className="radio-row">
              {fits.map((d) => (
                <label key={d} className="radio-pill">
                  <input type="radio" name="extend-duration" value={d} checked={duration === d} onChange={() => setDuration(d)} />
                  <span>{formatDuration(d)}</span>
                </label>
              ))}
            </div>
          </Fieldset>
          <TextArea
            label="Why do you need it for longer?"
            required
            rows={3}
            value={justification}
            onChange={(e) => setJustification(e.target.value)}
            error={err('justification')}
            maxLength={4000}
          />
          <button type="submit" className="btn btn-primary" disabled={extend.isPending}>
            {extend.isPending ? 'Asking…' : options.requires_approval ? 'Ask for more time' : 'Extend now'}
          </button>
        </form>
      )}
    </section>
  );
}

/** On an extension request: which grant it extends, by how much. */
export function ExtensionOf({ request }: { request: AccessRequest }) {
  if (request.kind !== 'extension' || !request.parent_id) return null;
  return (
    <p className="notice">
      Asks to extend <Link to={`/requests/${request.parent_id}`}>an active grant</Link> by {formatDuration(request.duration_mins)}.
    </p>
  );
}

/** On the request form: a grant of this template is already active, so point at extending it. */
export function ActiveGrantPointer({ error }: { error: unknown }) {
  if (!(error instanceof ApiError) || error.code !== 'grant_already_active' || typeof error.body.active_request_id !== 'string') return null;
  return (
    <p className="notice">
      You already have this access. <Link to={`/requests/${error.body.active_request_id}?extend=1`}>Extend your active grant</Link> instead.
    </p>
  );
}
