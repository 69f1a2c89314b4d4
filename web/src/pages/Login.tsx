import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { post } from '../api/client.ts';
import type { PasskeyOptions, SecondFactorRequired } from '../api/mfa-types.ts';
import type { Session } from '../api/types.ts';
import { FormError, TextField } from '../components/Field.tsx';
import { assertPasskey } from '../lib/webauthn.ts';
import { useAcceptSession } from '../session.tsx';
import { SecondFactorStep } from './security/SecondFactorStep.tsx';

/** Sign-in with the same account and session as the OIDC login: a password (and a second factor when the user has one), or a passkey alone. */
export function LoginPage() {
  const accept = useAcceptSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState<SecondFactorRequired | null>(null);
  const signIn = useMutation({
    mutationFn: () => post<Session | SecondFactorRequired>('/session', { email, password }),
    onSuccess: (answer) => {
      if ('second_factor_required' in answer) {
        setPassword('');
        setPending(answer);
      } else accept(answer);
    },
  });
  const passkey = useMutation({
    mutationFn: async () => {
      const options = await post<PasskeyOptions>('/session/passkey/options');
      return post<Session>('/session/passkey', { challenge_id: options.challenge_id, response: await assertPasskey(options.webauthn) });
    },
    onSuccess: accept,
  });
  useEffect(() => {
    document.title = 'Sign in · Interim';
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate();
  };

  return (
    <main id="main" className="auth-page">
      <div className="auth-card">
        <p className="brand brand-static">
          <span className="brand-mark" aria-hidden="true">
            I
          </span>
          Interim
        </p>
        {pending ? (
          <SecondFactorStep pending={pending} onSignedIn={accept} onRestart={() => (setPending(null), signIn.reset())} />
        ) : (
          <>
            <h1>Sign in</h1>
            <p className="muted">Ask for access, review requests and manage Interim.</p>
            <form onSubmit={submit} noValidate aria-describedby={signIn.error ? 'signin-error' : undefined}>
              <div id="signin-error">
                <FormError error={signIn.error} />
              </div>
              <TextField label="Email" type="email" name="email" autoComplete="username webauthn" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus required />
              <TextField label="Password" type="password" name="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
              <button type="submit" className="btn btn-primary btn-block" disabled={signIn.isPending}>
                {signIn.isPending ? 'Signing in…' : 'Sign in'}
              </button>
            </form>
            <div className="auth-alt">
              <p className="muted small">Or, with a passkey, no password at all:</p>
              <FormError error={passkey.error} plain />
              {/* Not "Sign in…": the password form's button keeps that name to itself. */}
              <button type="button" className="btn btn-block" onClick={() => passkey.mutate()} disabled={passkey.isPending}>
                {passkey.isPending ? 'Waiting for the passkey…' : 'Use a passkey'}
              </button>
            </div>
          </>
        )}
      </div>
    </main>
  );
}
