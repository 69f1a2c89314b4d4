import { useState } from 'react';
import { post } from '../../api/client.ts';
import type { AccessRequest, BulkItemResult } from '../../api/types.ts';
import { FormError, TextField } from '../../components/Field.tsx';
import { Modal } from '../../components/Modal.tsx';
import { useStepUp, withProof } from '../../components/StepUp.tsx';

const grantName = (r: AccessRequest) => `${r.requester.name || r.requester.email}: ${r.template_name}`;

/**
 * The action bar of the active grants (issue 14 §4): how many are selected, one reason, and a
 * confirm step that lists exactly the grants that will end, in the order they are sent.
 * Each is revoked through the single revoke path on the server, and answers for itself.
 */
export function BulkRevokeBar({ selected, total, onSelectAll, onDone }: { selected: AccessRequest[]; total: number; onSelectAll: (all: boolean) => void; onDone: (revoked: string[]) => void }) {
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [missingReason, setMissingReason] = useState(false);
  const [summary, setSummary] = useState<{ text: string; refused: { name: string; detail: string }[] } | null>(null);
  const all = total > 0 && selected.length === total;
  const stepUp = useStepUp();

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      const body = { reason: reason.trim(), request_ids: selected.map((r) => r.id) };
      const { results } = await stepUp((proof) => post<{ results: BulkItemResult[] }>('/access-requests/bulk-revoke', withProof(body, proof)));
      const byId = new Map(selected.map((r) => [r.id, r]));
      const revoked = results.filter((r) => r.outcome === 'revoked').map((r) => r.request_id);
      const refused = results.filter((r) => r.outcome === 'refused').map((r) => ({ name: byId.has(r.request_id) ? grantName(byId.get(r.request_id)!) : r.request_id, detail: r.error?.detail ?? 'refused' }));
      setSummary({ text: `${revoked.length} revoked${refused.length ? `, ${refused.length} not revoked` : ''}.`, refused });
      setConfirming(false);
      setReason('');
      onDone(revoked);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const summaryRegion = (
    <div className="bulk-summary" aria-live="polite" data-announcer="grants">
      {summary && (
        <>
          <p>{summary.text}</p>
          {summary.refused.length > 0 && (
            <ul className="small">
              {summary.refused.map((r) => (
                <li key={r.name}>
                  {r.name}: {r.detail}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
  // With nothing left to select, only what the last revoke did stays.
  if (total === 0) return summaryRegion;

  return (
    <div className="bulk-bar panel" role="region" aria-label="Bulk revoke">
      <label className="bulk-all">
        <input
          type="checkbox"
          checked={all}
          ref={(el) => {
            if (el) el.indeterminate = selected.length > 0 && !all;
          }}
          onChange={(e) => onSelectAll(e.target.checked)}
        />{' '}
        Select all shown ({total})
      </label>
      <span className="bulk-count">{selected.length} selected</span>
      <div className="bulk-reason">
        <TextField label="Reason for revoking" value={reason} maxLength={4000} onChange={(e) => setReason(e.target.value)} error={missingReason && !reason.trim() ? 'Say why the access ends.' : undefined} />
      </div>
      <button
        type="button"
        className="btn btn-small btn-danger"
        disabled={selected.length === 0}
        onClick={() => {
          setMissingReason(!reason.trim());
          if (reason.trim()) setConfirming(true);
        }}
      >
        Revoke selected…
      </button>
      {summaryRegion}
      <Modal open={confirming} title={`Revoke ${selected.length} grant${selected.length === 1 ? '' : 's'}`} onClose={() => setConfirming(false)} wide>
        <p>
          These grants end now, each exactly as if revoked on its own. Reason: <strong>{reason.trim()}</strong>
        </p>
        <ol className="bulk-list" aria-label="Grants to revoke">
          {selected.map((r) => (
            <li key={r.id}>
              <strong>{r.requester.name || r.requester.email}</strong> · {r.template_name} · {r.app.name}
            </li>
          ))}
        </ol>
        <FormError error={error} />
        <div className="form-actions">
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void revoke()}>
            {busy ? 'Revoking…' : `Revoke ${selected.length} grant${selected.length === 1 ? '' : 's'}`}
          </button>
        </div>
      </Modal>
    </div>
  );
}
