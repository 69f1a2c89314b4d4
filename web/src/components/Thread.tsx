import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { post } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { Comment } from '../api/types.ts';
import { fieldErrorsOf, FormError, TextArea } from './Field.tsx';
import { Time } from './Time.tsx';

/** The discussion on a request. Writable while the request is open or active. */
export function Thread({ requestId, comments, open }: { requestId: string; comments: Comment[]; open: boolean }) {
  const client = useQueryClient();
  const [body, setBody] = useState('');
  const add = useMutation({
    mutationFn: () => post(`/access-requests/${requestId}/comments`, { body }),
    onSuccess: async () => {
      setBody('');
      await client.invalidateQueries({ queryKey: keys.request(requestId) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <section className="panel" aria-labelledby="thread-heading">
      <h2 id="thread-heading">Discussion</h2>
      {comments.length === 0 ? (
        <p className="muted">No comments yet.</p>
      ) : (
        <ol className="thread" aria-label="Comments">
          {comments.map((c) => (
            <li key={c.id} className="comment">
              <p className="comment-meta">
                <strong>{c.author.name || c.author.email}</strong> <Time iso={c.created_at} />
              </p>
              <p className="prewrap">{c.body}</p>
            </li>
          ))}
        </ol>
      )}
      {open ? (
        <form onSubmit={submit} noValidate className="comment-form">
          <FormError error={add.error && !fieldErrorsOf(add.error)('body') ? add.error : null} />
          <TextArea label="Add a comment" rows={3} value={body} onChange={(e) => setBody(e.target.value)} error={fieldErrorsOf(add.error)('body')} maxLength={8000} />
          <button type="submit" className="btn" disabled={add.isPending}>
            {add.isPending ? 'Posting…' : 'Post comment'}
          </button>
        </form>
      ) : (
        <p className="muted small">The discussion is closed because the request has ended.</p>
      )}
    </section>
  );
}
