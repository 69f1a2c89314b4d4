import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { post } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { AccessRequestDetail } from '../api/types.ts';
import { fieldErrorsOf, FormError, TextArea } from './Field.tsx';
import { useStepUp, withProof } from './StepUp.tsx';

function useRequestMutation(id: string, path: string) {
  const client = useQueryClient();
  const stepUp = useStepUp();
  return useMutation({
    // Approve, deny and revoke may need step-up (issue 15): the dialog runs it and sends again.
    mutationFn: (body: Record<string, string>) => stepUp((proof) => post(`/access-requests/${id}/${path}`, path === 'cancel' ? body : withProof(body, proof))),
    onSuccess: async () => {
      await Promise.all([client.invalidateQueries({ queryKey: keys.request(id) }), client.invalidateQueries({ queryKey: ['requests'] })]);
    },
  });
}

/** Approve, or deny with a comment. */
export function DecisionPanel({ request }: { request: AccessRequestDetail }) {
  const approve = useRequestMutation(request.id, 'approve');
  const deny = useRequestMutation(request.id, 'deny');
  const [comment, setComment] = useState('');
  const [needComment, setNeedComment] = useState(false);
  const busy = approve.isPending || deny.isPending;
  const error = approve.error ?? deny.error;

  const onApprove = (event: FormEvent) => {
    event.preventDefault();
    setNeedComment(false);
    approve.mutate(comment.trim() ? { comment } : {});
  };
  const onDeny = () => {
    if (!comment.trim()) {
      setNeedComment(true);
      return;
    }
    setNeedComment(false);
    deny.mutate({ comment });
  };

  return (
    <section className="panel panel-accent" aria-labelledby="decide-heading">
      <h2 id="decide-heading">Your decision</h2>
      <form onSubmit={onApprove} noValidate>
        <FormError error={error} />
        <TextArea
          label="Comment"
          hint="Optional when approving; say why when you deny. The requester sees it."
          rows={3}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          error={needComment ? 'Say why you deny the request.' : fieldErrorsOf(error)('comment')}
          maxLength={4000}
        />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {approve.isPending ? 'Approving…' : 'Approve'}
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={onDeny}>
            {deny.isPending ? 'Denying…' : 'Deny'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** End an active grant early, with a reason (admins, approvers, or the requester giving it back). */
export function RevokePanel({ request, own }: { request: AccessRequestDetail; own: boolean }) {
  const revoke = useRequestMutation(request.id, 'revoke');
  const [reason, setReason] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    revoke.mutate({ reason });
  };
  return (
    <section className="panel" aria-labelledby="revoke-heading">
      <h2 id="revoke-heading">{own ? 'Give the access back' : 'Revoke this access'}</h2>
      <form onSubmit={submit} noValidate>
        <FormError error={revoke.error && !fieldErrorsOf(revoke.error)('reason') ? revoke.error : null} />
        <TextArea label="Reason" required rows={2} value={reason} onChange={(e) => setReason(e.target.value)} error={fieldErrorsOf(revoke.error)('reason')} maxLength={4000} />
        <button type="submit" className="btn btn-danger" disabled={revoke.isPending}>
          {revoke.isPending ? 'Ending…' : own ? 'End my access now' : 'Revoke now'}
        </button>
      </form>
    </section>
  );
}

export function CancelButton({ id }: { id: string }) {
  const cancel = useRequestMutation(id, 'cancel');
  return (
    <span className="inline-action">
      <button
        type="button"
        className="btn btn-small"
        disabled={cancel.isPending}
        onClick={() => {
          if (window.confirm('Withdraw this request?')) cancel.mutate({});
        }}
      >
        {cancel.isPending ? 'Cancelling…' : 'Cancel request'}
      </button>
      {cancel.error && (
        <span className="field-error" role="alert">
          {cancel.error.message}
        </span>
      )}
    </span>
  );
}
