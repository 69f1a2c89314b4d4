import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../../api/client.ts';
import type { Factor, TotpStart } from '../../api/mfa-types.ts';
import { fieldErrorsOf, Form, FormError, onSubmitSend, SubmitButton, TextField } from '../../components/Field.tsx';
import { createPasskey } from '../../lib/webauthn.ts';
import { CopyButton } from '../../components/CopyButton.tsx';
import { useFactorsChanged } from './queries.ts';

/** Registers a passkey of this device (or a security key) under a name. */
export function AddPasskey() {
  const changed = useFactorsChanged();
  const [name, setName] = useState('');
  const [added, setAdded] = useState<Factor | null>(null);
  const add = useMutation({
    mutationFn: async () => {
      const options = await post<Record<string, unknown>>('/me/factors/webauthn/options');
      return post<Factor>('/me/factors/webauthn', { name, response: await createPasskey(options) });
    },
    onSuccess: async (factor) => {
      setAdded(factor);
      setName('');
      await changed();
    },
  });
  const err = fieldErrorsOf(add.error);
  return (
    <Form onSubmit={onSubmitSend(() => add.mutate())} noValidate className="narrow-form" aria-label="Add a passkey">
      {added && (
        <p className="notice notice-success" role="status">
          Passkey “{added.name}” added.{added.passwordless ? ' It can also sign you in without your password.' : ''}
        </p>
      )}
      <FormError error={add.error} />
      <TextField label="Passkey name" hint="Which device or key it is, e.g. “Work laptop”." value={name} onChange={(e) => setName(e.target.value)} error={err('name')} required />
      <div className="form-actions">
        <SubmitButton busy={add.isPending} busyLabel="Waiting for the passkey…">
          Add a passkey
        </SubmitButton>
      </div>
    </Form>
  );
}

/** Sets up an authenticator app: the secret (and otpauth link) to enter in the app, then its first code. */
export function AddAuthenticatorApp() {
  const changed = useFactorsChanged();
  const [started, setStarted] = useState<TotpStart | null>(null);
  const [name, setName] = useState('Authenticator app');
  const [code, setCode] = useState('');
  const [added, setAdded] = useState<Factor | null>(null);
  const start = useMutation({
    mutationFn: () => post<TotpStart>('/me/factors/totp/start'),
    onSuccess: (s) => {
      setStarted(s);
      setAdded(null);
    },
  });
  const confirm = useMutation({
    mutationFn: () => post<Factor>('/me/factors/totp', { name, code: code.trim() }),
    onSuccess: async (factor) => {
      setAdded(factor);
      setStarted(null);
      setCode('');
      await changed();
    },
  });
  const err = fieldErrorsOf(confirm.error);
  if (!started) {
    return (
      <div className="narrow-form">
        {added && (
          <p className="notice notice-success" role="status">
            Authenticator app “{added.name}” added.
          </p>
        )}
        <FormError error={start.error} plain />
        <button type="button" className="btn" onClick={() => start.mutate()} disabled={start.isPending}>
          Set up an authenticator app
        </button>
      </div>
    );
  }
  return (
    <Form onSubmit={onSubmitSend(() => confirm.mutate())} noValidate className="narrow-form mfa-totp" aria-label="Confirm the authenticator app">
      <p>Add this key to your authenticator app (or open the link on the phone that has it), then enter the code it shows.</p>
      <dl className="mfa-secret">
        <dt>Key</dt>
        <dd>
          <code data-testid="totp-secret">{started.secret}</code> <CopyButton value={started.secret} what="key" label="Copy the key" />
        </dd>
        <dt>Link</dt>
        <dd>
          <code className="mfa-uri">{started.otpauth_uri}</code> <CopyButton value={started.otpauth_uri} what="link" label="Copy the link" />
        </dd>
      </dl>
      <FormError error={confirm.error} />
      <TextField label="App name" value={name} onChange={(e) => setName(e.target.value)} error={err('name')} required />
      <TextField label="Code from the app" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} error={err('code')} required />
      <div className="form-actions">
        <SubmitButton busy={confirm.isPending} busyLabel="Checking…">
          Confirm the app
        </SubmitButton>
        <button type="button" className="btn btn-ghost" onClick={() => setStarted(null)}>
          Cancel
        </button>
      </div>
    </Form>
  );
}
