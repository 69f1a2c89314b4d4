import { AddAuthenticatorApp, AddPasskey } from './Enrol.tsx';

/** The MFA policy covers this user and they have no second factor: the only page until they add one. */
export function EnrolmentRequiredPage({ onSignOut }: { onSignOut: () => void }) {
  return (
    <main id="main" className="auth-page">
      <div className="auth-card mfa-enrol-card">
        <h1>Add a second factor</h1>
        <p className="notice">Your organisation requires a second factor for your account. Add a passkey or an authenticator app to continue.</p>
        <h2>A passkey</h2>
        <AddPasskey />
        <h2>Or an authenticator app</h2>
        <AddAuthenticatorApp />
        <p>
          <button type="button" className="btn btn-ghost" onClick={onSignOut}>
            Sign out
          </button>
        </p>
      </div>
    </main>
  );
}
