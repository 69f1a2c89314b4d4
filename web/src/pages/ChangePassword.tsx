import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { post } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import { fieldErrorsOf, Form, FormError, TextField } from '../components/Field.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { TimeZoneSetting } from '../components/TimeZoneSetting.tsx';
import { Link } from '../router.tsx';
import { SlackLinksSection } from './SlackLinks.tsx';
import { CliDevicesSection } from './CliDevices.tsx';

/**
 * Changing one's password. `forced` is the first sign-in with a password an admin set
 * (must_change_password): nothing else is reachable until it is done.
 */
export function ChangePasswordForm({ forced, onSignOut }: { forced?: boolean; onSignOut?: () => void }) {
  const client = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: () => post('/me/password', { current_password: current, new_password: next }),
    onSuccess: async () => {
      setDone(true);
      setCurrent('');
      setNext('');
      setRepeat('');
      await client.invalidateQueries({ queryKey: keys.session });
    },
  });
  const err = fieldErrorsOf(change.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    setMismatch(next !== repeat);
    if (next === repeat) change.mutate();
  };

  return (
    <Form onSubmit={submit} noValidate className="narrow-form">
      {forced && <p className="notice">Your password was set by an administrator. Choose your own before you continue.</p>}
      {done && (
        <p className="notice notice-success" role="status">
          Your password has been changed. You have been signed out everywhere else, and your API tokens have ended.
        </p>
      )}
      <FormError error={change.error} />
      <TextField label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} error={err('current_password')} required />
      <TextField
        label="New password"
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        error={err('new_password')}
        hint="At least 12 characters, and not the current one."
        required
      />
      <TextField
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        value={repeat}
        onChange={(e) => setRepeat(e.target.value)}
        error={mismatch ? 'The two passwords differ.' : undefined}
        required
      />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={change.isPending}>
          {change.isPending ? 'Saving…' : 'Change password'}
        </button>
        {onSignOut && (
          <button type="button" className="btn" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </div>
    </Form>
  );
}

/** The forced change at first sign-in, before the portal opens. */
export function ForcedPasswordChangePage({ onSignOut }: { onSignOut: () => void }) {
  return (
    <main id="main" className="auth-page">
      <div className="auth-card">
        <h1>Choose a new password</h1>
        <ChangePasswordForm forced onSignOut={onSignOut} />
      </div>
    </main>
  );
}

export function AccountPage() {
  return (
    <>
      <PageHeader title="Your account" lead="Your time zone, and your password. Changing the password signs you out everywhere else and ends your API tokens." />
      <section className="panel" aria-labelledby="security-heading">
        <h2 id="security-heading">Sign-in security</h2>
        <p>
          Passkeys, authenticator apps and recovery codes: <Link to="/account/security">manage your second factors</Link>.
        </p>
      </section>
      <section className="panel" aria-labelledby="time-zone-heading">
        <h2 id="time-zone-heading">Time zone</h2>
        <TimeZoneSetting />
      </section>
      <section className="panel">
        <h2>Change password</h2>
        <ChangePasswordForm />
      </section>
      <SlackLinksSection />
      <CliDevicesSection />
    </>
  );
}
