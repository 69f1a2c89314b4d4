import { createContext, useCallback, useContext, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, post } from '../api/client.ts';
import type { StepUpStart } from '../api/mfa-types.ts';
import { assertPasskey } from '../lib/webauthn.ts';
import { Link, useLocation } from '../router.tsx';
import { FormError, TextField } from './Field.tsx';
import { Modal } from './Modal.tsx';

/** What the server asks a fresh second-factor check for (the 403's `step_up` details): a decision, or a change to second factors. */
export interface StepUpBinding {
  action: string;
  target: string;
  stage: number | null;
  max_age_minutes?: number;
  /** The user has no second factor: they must add one before this act can be done. */
  no_second_factor?: boolean;
}

const STEP_UP_CODES = new Set(['step_up_required', 'step_up_stale', 'step_up_invalid']);

/** The binding a refused act asks for, or null when the refusal is about something else. */
export function stepUpBindingOf(error: unknown): StepUpBinding | null {
  if (!(error instanceof ApiError) || error.status !== 403 || !STEP_UP_CODES.has(error.code)) return null;
  const binding = error.body.step_up;
  return binding && typeof binding === 'object' ? (binding as StepUpBinding) : null;
}

/** Adds the proof to an act's body (nothing when there is none yet). */
export const withProof = <B extends object>(body: B, proof: string | undefined): B & { step_up?: string } => (proof ? { ...body, step_up: proof } : body);

/** The act a check is for, as the dialog names it ("This … needs a fresh check"): decisions, and changes to second factors. */
const WHAT: Record<string, string> = {
  approve: 'approval',
  deny: 'denial',
  revoke: 'revocation',
  break_glass: 'break-glass access',
  bulk_decision: 'bulk decision',
  bulk_revoke: 'bulk revocation',
  factor_remove: 'removal of a second factor',
  mfa_policy: 'change of the second-factor policy',
  mfa_reset: 'reset of someone’s second factors',
};

/** Sends an act; when the server asks for step-up, runs the check and sends it again with the proof. */
type Run = <T>(send: (proof: string | undefined) => Promise<T>) => Promise<T>;

interface Asked {
  binding: StepUpBinding;
  send: (proof: string | undefined) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const StepUpContext = createContext<Run>((send) => send(undefined));

/**
 * Acts that may need step-up go through `run`: `run((proof) => post(path, withProof(body, proof)))`,
 * or `run((proof) => del(withQuery(path, { step_up: proof })))` where the proof is a query parameter.
 */
export const useStepUp = (): Run => useContext(StepUpContext);

const cancelled = () => new ApiError(403, { code: 'step_up_cancelled', detail: 'Not done: this needs a check with your second factor, which was cancelled.' });

/**
 * One step-up dialog for the whole portal (issue 15): an act refused with
 * `step_up_required`, `step_up_stale` or `step_up_invalid` (a decision, removing a factor,
 * the MFA policy, an admin's reset of someone's factors) opens it; the user passes the
 * check (passkey, authenticator code or recovery code) for exactly the act the server named,
 * and the act is sent again with the proof. Closing it (Esc) leaves the act undone.
 * The dialog renders here, outside every page and its forms, so its own form never submits
 * a page's form.
 */
export function StepUpProvider({ children }: { children: ReactNode }) {
  const [asked, setAsked] = useState<Asked | null>(null);
  // The open request's promise, settled exactly once (by the check, or by closing the dialog).
  const current = useRef<Asked | null>(null);
  const run = useCallback<Run>(
    <T,>(send: (proof: string | undefined) => Promise<T>) =>
      send(undefined).catch((error: unknown) => {
        const binding = stepUpBindingOf(error);
        if (!binding) throw error;
        return new Promise<T>((resolve, reject) => {
          current.current?.reject(cancelled());
          current.current = { binding, send, resolve: resolve as (value: unknown) => void, reject };
          setAsked(current.current);
        });
      }),
    [],
  );
  const settle = useCallback((outcome: { value: unknown } | { error: unknown }) => {
    const open = current.current;
    current.current = null;
    setAsked(null);
    if (!open) return;
    if ('error' in outcome) open.reject(outcome.error);
    else open.resolve(outcome.value);
  }, []);
  const onClose = useCallback(() => settle({ error: cancelled() }), [settle]);
  // Following a link out of the dialog (to the account page) leaves the act undone.
  const { pathname } = useLocation();
  useEffect(() => {
    if (current.current) settle({ error: cancelled() });
  }, [pathname, settle]);
  return (
    <StepUpContext.Provider value={run}>
      {children}
      <Modal open={asked !== null} title="Confirm with your second factor" onClose={onClose}>
        {asked && <StepUpCheck asked={asked} settle={settle} />}
      </Modal>
    </StepUpContext.Provider>
  );
}

/** Starts a step-up check on the server for the binding: what StepUpForm offers. */
async function startStepUp(binding: Pick<StepUpBinding, 'action' | 'target' | 'stage'>): Promise<StepUpStart> {
  return post<StepUpStart>('/step-up', { action: binding.action, target: binding.target, stage: binding.stage });
}

/** The check itself: start it for the binding, then a passkey or a code; `onProof` gets the verified proof's id. */
export function StepUpForm({
  binding,
  onProof,
  busy,
  error: outerError,
  passkeyLabel = 'Use a passkey',
}: {
  binding: StepUpBinding;
  onProof: (id: string) => Promise<void>;
  busy?: boolean;
  error?: unknown;
  /** The passkey button's words: the decision page names the decision itself. */
  passkeyLabel?: string;
}) {
  const [started, setStarted] = useState<StepUpStart | null>(null);
  const [code, setCode] = useState('');
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const startedFor = useRef(-1);

  // One check per attempt (a ref, so a re-render or StrictMode's second effect starts no other).
  useEffect(() => {
    if (binding.no_second_factor || startedFor.current === attempt) return;
    startedFor.current = attempt;
    setStarted(null);
    startStepUp(binding).then(setStarted, setError);
  }, [binding, attempt]);

  async function verify(proof: Record<string, unknown>) {
    if (!started) return;
    setWorking(true);
    setError(null);
    try {
      await post(`/step-up/${started.id}/verify`, proof);
      await onProof(started.id);
    } catch (e) {
      setError(e);
      // A used, stale or failed-out check cannot be tried again: start a fresh one.
      if (stepUpBindingOf(e) || (e instanceof ApiError && (e.status === 410 || e.code === 'step_up_verified'))) setAttempt((a) => a + 1);
    } finally {
      setWorking(false);
      setCode('');
    }
  }

  async function checkWithPasskey() {
    if (!started?.webauthn) return;
    let assertion: unknown;
    try {
      assertion = await assertPasskey(started.webauthn);
    } catch {
      setError(new Error('The passkey check did not finish. Try again, or use a code.'));
      return;
    }
    await verify({ webauthn: assertion });
  }

  const onCode = (event: FormEvent) => {
    event.preventDefault();
    const value = code.replace(/\s+/g, '');
    if (!value) return setError(new Error('Enter the code from your authenticator app, or a recovery code.'));
    void verify(/^\d{6}$/.test(value) ? { totp: value } : { recovery_code: value });
  };

  const what = WHAT[binding.action] ?? 'action';
  if (binding.no_second_factor) {
    return (
      <div className="step-up">
        <p role="alert">
          This {what} needs a check with a second factor, and you have none yet. Add a passkey or an authenticator app on <Link to="/account">your account page</Link> first, then try again.
        </p>
      </div>
    );
  }
  const disabled = !started || working || busy;
  return (
    <div className="step-up">
      <p>
        This {what} needs a fresh check of your passkey or authenticator app{binding.max_age_minutes ? ` (one made in the last ${binding.max_age_minutes} minutes)` : ''}. The check is for this {what} only.
      </p>
      <FormError error={error ?? outerError} plain />
      {!started && !error && <p className="muted">Preparing the check…</p>}
      {started?.methods.includes('webauthn') && (
        <p>
          <button type="button" className="btn btn-primary" disabled={disabled} onClick={() => void checkWithPasskey()}>
            {working ? 'Checking…' : passkeyLabel}
          </button>
        </p>
      )}
      {started && (started.methods.includes('totp') || started.methods.includes('recovery_code')) && (
        <form onSubmit={onCode} noValidate className="step-up-code">
          <TextField
            label={started.methods.includes('totp') ? 'Code from your authenticator app, or a recovery code' : 'Recovery code'}
            autoComplete="one-time-code"
            inputMode="text"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            maxLength={64}
          />
          <button type="submit" className="btn" disabled={disabled}>
            Confirm with the code
          </button>
        </form>
      )}
    </div>
  );
}

/** In the dialog: the check, then the act sent again with its proof; a refusal of the proof starts a fresh check. */
function StepUpCheck({ asked, settle }: { asked: Asked; settle: (outcome: { value: unknown } | { error: unknown }) => void }) {
  const [binding, setBinding] = useState(asked.binding);
  const [round, setRound] = useState(0);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onProof = async (proof: string) => {
    setSending(true);
    setError(null);
    try {
      settle({ value: await asked.send(proof) });
    } catch (e) {
      const again = stepUpBindingOf(e);
      if (!again) return settle({ error: e });
      // Stale, or the act changed (a new stage): a fresh check for what the server names now.
      setError(e);
      setBinding(again);
      setRound((r) => r + 1);
    } finally {
      setSending(false);
    }
  };
  return <StepUpForm key={round} binding={binding} onProof={onProof} busy={sending} error={error} />;
}
