import { useMutation, useQuery } from '@tanstack/react-query';
import { useCallback, useRef, useState, type ReactNode } from 'react';
import { ApiError, post } from '../../api/client.ts';
import type { StepUpStart } from '../../api/mfa-types.ts';
import { Form, FormError, onSubmitSend, SubmitButton, TextField } from '../../components/Field.tsx';
import { Modal } from '../../components/Modal.tsx';
import { ErrorMessage, Loading } from '../../components/Status.tsx';
import { assertPasskey } from '../../lib/webauthn.ts';

interface Binding {
  action: string;
  target: string;
  stage?: number | null;
}

/** A six-digit code is from the app; anything else is taken as a recovery code. */
export const proofOfCode = (code: string) => (/^\d{6}$/.test(code.trim()) ? { totp: code.trim() } : { recovery_code: code.trim() });

/** The check itself: a passkey, or a code from the app, or a recovery code. */
function StepUpCheck({ binding, what, onDone }: { binding: Binding; what: string; onDone: (proofId: string) => void }) {
  const started = useQuery({ queryKey: ['step-up', binding], queryFn: () => post<StepUpStart>('/step-up', binding), staleTime: Infinity, gcTime: 0, retry: false });
  const [code, setCode] = useState('');
  const verify = useMutation({
    mutationFn: async (proof: object) => {
      await post(`/step-up/${started.data!.id}/verify`, proof);
      return started.data!.id;
    },
    onSuccess: onDone,
  });
  const passkey = useMutation({ mutationFn: async () => verify.mutateAsync({ webauthn: await assertPasskey(started.data!.webauthn!) }) });
  if (started.isPending) return <Loading label="Preparing the check…" />;
  if (started.isError) return <ErrorMessage error={started.error} title="The check could not start" />;
  return (
    <>
      <p>Confirm with your second factor that you want to {what}.</p>
      <FormError error={passkey.error ?? verify.error} plain />
      {started.data.webauthn && (
        <p>
          <button type="button" className="btn btn-primary" onClick={() => passkey.mutate()} disabled={passkey.isPending}>
            {passkey.isPending ? 'Waiting for the passkey…' : 'Use your passkey'}
          </button>
        </p>
      )}
      <Form onSubmit={onSubmitSend(() => verify.mutate(proofOfCode(code)))} noValidate>
        <TextField label="Code" hint="From your authenticator app, or one of your recovery codes." autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required />
        <div className="form-actions">
          <SubmitButton busy={verify.isPending} busyLabel="Checking…">
            Confirm
          </SubmitButton>
        </div>
      </Form>
    </>
  );
}

/**
 * Runs an act that may need a fresh second-factor check: tried without a proof first; on
 * 403 step_up_required it asks for the factor the API named the act for, then tries again
 * with the proof. `dialog` must be rendered by the caller.
 */
export function useStepUp(what: string): { run: <T>(act: (proofId?: string) => Promise<T>) => Promise<T>; dialog: ReactNode } {
  const [asking, setAsking] = useState<Binding | null>(null);
  const settle = useRef<{ resolve: (id: string) => void; reject: (e: Error) => void } | null>(null);

  const run = useCallback(async <T,>(act: (proofId?: string) => Promise<T>): Promise<T> => {
    try {
      return await act(undefined);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'step_up_required') throw error;
      // The act the API named (its error also says how fresh the check must be, which the start does not take).
      const { action, target, stage } = error.body.step_up as Binding;
      const binding: Binding = stage === null || stage === undefined ? { action, target } : { action, target, stage };
      const proofId = await new Promise<string>((resolve, reject) => {
        settle.current = { resolve, reject };
        setAsking(binding);
      });
      return act(proofId);
    }
  }, []);

  const close = useCallback(() => {
    settle.current?.reject(new Error('Not confirmed: nothing was changed.'));
    settle.current = null;
    setAsking(null);
  }, []);

  const dialog = (
    <Modal open={asking !== null} title="Confirm it is you" onClose={close}>
      {asking && (
        <StepUpCheck
          binding={asking}
          what={what}
          onDone={(id) => {
            settle.current?.resolve(id);
            settle.current = null;
            setAsking(null);
          }}
        />
      )}
    </Modal>
  );
  return { run, dialog };
}
