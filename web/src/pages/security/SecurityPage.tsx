import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { del, patch, withQuery } from '../../api/client.ts';
import type { Factor } from '../../api/mfa-types.ts';
import { FormError } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { QueryView } from '../../components/Status.tsx';
import { useStepUp } from '../../components/StepUp.tsx';
import { DataTable } from '../../components/Table.tsx';
import { Time } from '../../components/Time.tsx';
import { Link } from '../../router.tsx';
import { AddAuthenticatorApp, AddPasskey } from './Enrol.tsx';
import { useFactorsChanged, useFactors } from './queries.ts';
import { RecoveryCodes } from './RecoveryCodes.tsx';

const KIND = { webauthn: 'Passkey', totp: 'Authenticator app' } as const;

function FactorRow({ factor }: { factor: Factor }) {
  const changed = useFactorsChanged();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(factor.name);
  const run = useStepUp();
  const rename = useMutation({ mutationFn: () => patch(`/me/factors/${factor.id}`, { name }), onSuccess: async () => (setEditing(false), await changed()) });
  const remove = useMutation({ mutationFn: () => run((proof) => del(withQuery(`/me/factors/${factor.id}`, { step_up: proof }))), onSuccess: changed });
  return (
    <tr>
      <td>
        {editing ? (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              rename.mutate();
            }}
          >
            <label className="visually-hidden" htmlFor={`name-${factor.id}`}>
              New name for {factor.name}
            </label>
            <input id={`name-${factor.id}`} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoFocus />
            <button type="submit" className="btn btn-small" disabled={rename.isPending}>
              Save
            </button>
          </form>
        ) : (
          factor.name
        )}
        <FormError error={rename.error ?? remove.error} plain />
      </td>
      <td>
        {KIND[factor.kind]}
        {factor.passwordless && <span className="muted small"> · signs in without a password</span>}
      </td>
      <td>
        <Time iso={factor.created_at} />
      </td>
      <td>{factor.last_used_at ? <Time iso={factor.last_used_at} /> : <span className="muted">Never</span>}</td>
      <td className="actions">
        {!editing && (
          <button type="button" className="btn btn-small" onClick={() => setEditing(true)}>
            Rename<span className="visually-hidden"> {factor.name}</span>
          </button>
        )}{' '}
        <button type="button" className="btn btn-small btn-danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
          Remove<span className="visually-hidden"> {factor.name}</span>
        </button>
      </td>
    </tr>
  );
}

/** The user's second factors: passkeys, authenticator apps and recovery codes (docs/mfa.md). */
function SecuritySections() {
  const factors = useFactors();
  return (
    <>
      <section className="panel" aria-labelledby="factors-heading">
        <h2 id="factors-heading">Second factors</h2>
        <QueryView query={factors} loading="Loading your factors…">
          {(items) =>
            items.length === 0 ? (
              <p className="muted">None yet. With a second factor, a stolen password alone no longer gets into your account.</p>
            ) : (
              <DataTable caption="Your second factors" columns={['Name', 'Kind', 'Added', 'Last used']} actions>
                {items.map((f) => (
                  <FactorRow key={f.id} factor={f} />
                ))}
              </DataTable>
            )
          }
        </QueryView>
      </section>
      <section className="panel" aria-labelledby="passkey-heading">
        <h2 id="passkey-heading">Add a passkey</h2>
        <p className="muted">Your device’s screen lock, a fingerprint or a security key. It cannot be phished.</p>
        <AddPasskey />
      </section>
      <section className="panel" aria-labelledby="totp-heading">
        <h2 id="totp-heading">Add an authenticator app</h2>
        <AddAuthenticatorApp />
      </section>
      <section className="panel" aria-labelledby="recovery-heading">
        <h2 id="recovery-heading">Recovery codes</h2>
        <RecoveryCodes hasFactor={(factors.data?.length ?? 0) > 0} />
      </section>
    </>
  );
}

export function SecurityPage() {
  return (
    <>
      <PageHeader title="Sign-in security" lead={<>Passkeys, authenticator apps and recovery codes for signing in. <Link to="/account">Back to your account</Link></>} />
      <SecuritySections />
    </>
  );
}
