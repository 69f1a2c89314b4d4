import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../../api/client.ts';
import type { SecondFactorRequired } from '../../api/mfa-types.ts';
import type { Session } from '../../api/types.ts';
import { fieldErrorsOf, Form, FormError, onSubmitSend, SubmitButton, TextField } from '../../components/Field.tsx';
import { Time } from '../../components/Time.tsx';
import { assertPasskey } from '../../lib/webauthn.ts';

/** Sign-in's second step: the passkey, a code from the app, or a recovery code. */
export function SecondFactorStep({ pending, onSignedIn, onRestart }: { pending: SecondFactorRequired; onSignedIn: (s: Session) => void; onRestart: () => void }) {
  const hasApp = pending.methods.includes('totp');
  const [recovery, setRecovery] = useState(!pending.webauthn && !hasApp);
  const [code, setCode] = useState('');
  const finish = useMutation({ mutationFn: (proof: object) => post<Session>('/session/second-factor', { pending: pending.pending, ...proof }), onSuccess: onSignedIn });
  const passkey = useMutation({ mutationFn: async () => finish.mutateAsync({ webauthn: await assertPasskey(pending.webauthn!) }) });
  const err = fieldErrorsOf(finish.error);
  return (
    <>
      <h1>Second step</h1>
      <p className="muted">
        Confirm it is you (this sign-in ends <Time iso={pending.expires_at} />
        ).
      </p>
      <FormError error={passkey.error ?? (finish.error && !code ? finish.error : null)} plain />
      {pending.webauthn && !recovery && (
        <p>
          <button type="button" className="btn btn-primary btn-block" onClick={() => passkey.mutate()} disabled={passkey.isPending} autoFocus>
            {passkey.isPending ? 'Waiting for the passkey…' : 'Use your passkey'}
          </button>
        </p>
      )}
      {(hasApp || recovery) && (
        <Form onSubmit={onSubmitSend(() => finish.mutate(recovery ? { recovery_code: code.trim() } : { totp: code.trim() }))} noValidate aria-label="Sign in with a code">
          <FormError error={code ? finish.error : null} />
          <TextField
            key={recovery ? 'recovery' : 'totp'}
            label={recovery ? 'Recovery code' : 'Code from your authenticator app'}
            inputMode={recovery ? 'text' : 'numeric'}
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={err(recovery ? 'recovery_code' : 'totp')}
            autoFocus={!pending.webauthn || recovery}
            required
          />
          <SubmitButton busy={finish.isPending} busyLabel="Checking…" className="btn btn-primary btn-block">
            Sign in
          </SubmitButton>
        </Form>
      )}
      <p className="auth-links">
        {!recovery && (
          <button type="button" className="btn-link" onClick={() => (setRecovery(true), setCode(''))}>
            Use a recovery code
          </button>
        )}{' '}
        <button type="button" className="btn-link" onClick={onRestart}>
          Start again
        </button>
      </p>
    </>
  );
}
