import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { post } from '../api/client.ts';
import type { Session } from '../api/types.ts';
import { FormError, TextField } from '../components/Field.tsx';
import { useAcceptSession } from '../session.tsx';

/** Sign-in with the same account and session as the OIDC login. */
export function LoginPage() {
  const accept = useAcceptSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => post<Session>('/session', { email, password }),
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
        <h1>Sign in</h1>
        <p className="muted">Ask for access, review requests and manage Interim.</p>
        <form onSubmit={submit} noValidate aria-describedby={signIn.error ? 'signin-error' : undefined}>
          <div id="signin-error">
            <FormError error={signIn.error} />
          </div>
          <TextField label="Email" type="email" name="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} autoFocus required />
          <TextField label="Password" type="password" name="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          <button type="submit" className="btn btn-primary btn-block" disabled={signIn.isPending}>
            {signIn.isPending ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
