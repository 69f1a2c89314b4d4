import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../../api/client.ts';
import { FormError } from '../../components/Field.tsx';
import { CopyButton } from '../../components/CopyButton.tsx';
import { useFactorsChanged, useRecoveryLeft } from './queries.ts';

/** Recovery codes: how many are left, and ten new ones shown once (copy or download), which replace the old. */
export function RecoveryCodes({ hasFactor }: { hasFactor: boolean }) {
  const left = useRecoveryLeft();
  const changed = useFactorsChanged();
  const [codes, setCodes] = useState<string[] | null>(null);
  const generate = useMutation({
    mutationFn: async () => (await post<{ codes: string[] }>('/me/recovery-codes')).codes,
    onSuccess: async (fresh) => {
      setCodes(fresh);
      await changed();
    },
  });
  const download = () => {
    const url = URL.createObjectURL(new Blob([`Interim recovery codes (each works once)\n\n${codes!.join('\n')}\n`], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'interim-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  };
  if (!hasFactor) return <p className="muted">Add a passkey or an authenticator app first; recovery codes let you in when you cannot use them.</p>;
  return (
    <div>
      <p>
        Each code signs you in once when your passkey or phone is not at hand.{' '}
        {left.data !== undefined && <strong>{left.data === 0 ? 'You have no codes left.' : `${left.data} of 10 left.`}</strong>}
      </p>
      {codes && (
        <div className="secret-once" role="status">
          <p>
            <strong>Your new recovery codes</strong> — shown only now. Store them somewhere safe; the old ones no longer work.
          </p>
          <ul className="mfa-codes" aria-label="Recovery codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <div className="form-actions">
            <CopyButton value={codes.join('\n')} what="recovery codes" label="Copy the codes" />
            <button type="button" className="btn btn-small" onClick={download}>
              Download
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setCodes(null)}>
              I have stored them
            </button>
          </div>
        </div>
      )}
      <FormError error={generate.error} plain />
      <button type="button" className="btn" onClick={() => generate.mutate()} disabled={generate.isPending}>
        {left.data ? 'Make new recovery codes' : 'Make recovery codes'}
      </button>
    </div>
  );
}
