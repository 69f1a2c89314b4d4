import { useState } from 'react';
import type { InboxItem } from '../../api/types.ts';
import { FormError, TextArea } from '../../components/Field.tsx';
import { Modal } from '../../components/Modal.tsx';
import { formatDuration } from '../../lib/format.ts';

export type Decision = 'approve' | 'deny';

/** The bar above the list: select every eligible row, how many are selected, and the two bulk actions. */
export function BulkBar({ eligible, selected, onSelectAll, onAsk }: { eligible: number; selected: number; onSelectAll: (all: boolean) => void; onAsk: (d: Decision) => void }) {
  if (eligible === 0) return null;
  const all = selected > 0 && selected === eligible;
  return (
    <div className="bulk-bar panel" role="region" aria-label="Bulk decisions">
      <label className="bulk-all">
        <input
          type="checkbox"
          checked={all}
          ref={(el) => {
            if (el) el.indeterminate = selected > 0 && !all;
          }}
          onChange={(e) => onSelectAll(e.target.checked)}
        />{' '}
        Select all eligible ({eligible})
      </label>
      <span className="bulk-count" aria-live="polite">
        {selected} selected
      </span>
      <div className="bulk-actions">
        <button type="button" className="btn btn-small btn-primary" disabled={selected === 0} onClick={() => onAsk('approve')}>
          Approve selected…
        </button>
        <button type="button" className="btn btn-small btn-danger" disabled={selected === 0} onClick={() => onAsk('deny')}>
          Deny selected…
        </button>
      </div>
    </div>
  );
}

const verb = (d: Decision) => (d === 'approve' ? 'Approve' : 'Deny');
const plural = (n: number) => `${n} request${n === 1 ? '' : 's'}`;

/**
 * The confirm step: exactly the requests that will be decided, in the order they are sent
 * (the list the server receives and answers item by item), with one optional comment.
 */
export function BulkConfirm({ decision, requests, busy, error, onConfirm, onClose }: { decision: Decision | null; requests: InboxItem[]; busy: boolean; error: unknown; onConfirm: (comment: string) => void; onClose: () => void }) {
  const [comment, setComment] = useState('');
  const title = decision ? `${verb(decision)} ${plural(requests.length)}` : '';
  return (
    <Modal open={decision !== null} title={title} onClose={onClose} wide>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm(comment);
        }}
      >
        <p>{decision === 'approve' ? 'These requests will be approved' : 'These requests will be denied'}, each checked as if you decided it on its own:</p>
        <ol className="bulk-list" aria-label="Requests to decide">
          {requests.map((r) => (
            <li key={r.id}>
              <strong>{r.requester.name || r.requester.email}</strong> · {r.template_name} · {formatDuration(r.duration_mins)}
            </li>
          ))}
        </ol>
        <FormError error={error} />
        <TextArea label="Comment" hint="Optional; recorded with every decision and shown to each requester." rows={2} maxLength={4000} value={comment} onChange={(e) => setComment(e.target.value)} />
        <div className="form-actions">
          <button type="submit" className={`btn ${decision === 'deny' ? 'btn-danger' : 'btn-primary'}`} disabled={busy}>
            {busy ? 'Working…' : title}
          </button>
        </div>
      </form>
    </Modal>
  );
}
