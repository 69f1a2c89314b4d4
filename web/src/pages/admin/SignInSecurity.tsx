import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, get, put, withQuery } from '../../api/client.ts';
import type { MfaPolicy } from '../../api/mfa-types.ts';
import { keys } from '../../api/queries.ts';
import { Fieldset, FormError } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { Modal } from '../../components/Modal.tsx';
import { QueryView } from '../../components/Status.tsx';
import { useStepUp, withProof } from '../../components/StepUp.tsx';

const POLICY_KEY = keys.admin('mfa-policy');
const CHOICES: [MfaPolicy, string, string][] = [
  ['off', 'Optional', 'People may add a second factor; nobody has to.'],
  ['admins_and_approvers', 'Admins and approvers', 'Admins and members of any template’s approver groups must add one before anything else.'],
  ['everyone', 'Everyone', 'Every user must add one before anything else.'],
];

function PolicyForm({ current }: { current: MfaPolicy }) {
  const client = useQueryClient();
  const [choice, setChoice] = useState<MfaPolicy>(current);
  const run = useStepUp();
  const save = useMutation({
    mutationFn: () => run((proof) => put<{ policy: MfaPolicy }>('/settings/mfa-policy', withProof({ policy: choice }, proof))),
    onSuccess: () => client.invalidateQueries({ queryKey: POLICY_KEY }),
  });
  // The step-up dialog (StepUpProvider's, rendered outside every page) has a form of its own: its submit never submits this.
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
      className="narrow-form"
      aria-label="Second factor policy"
    >
      <FormError error={save.error} plain />
      {save.isSuccess && (
        <p className="notice notice-success" role="status">
          Saved.
        </p>
      )}
      <Fieldset legend="Who must use a second factor" hint="People it covers without a factor can only add one until they do; their API tokens stop working meanwhile.">
        {CHOICES.map(([value, label, hint]) => (
          <label key={value} className="radio">
            <input type="radio" name="mfa-policy" value={value} checked={choice === value} onChange={() => setChoice(value)} /> {label}
            <span className="muted small"> — {hint}</span>
          </label>
        ))}
      </Fieldset>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={save.isPending || choice === current}>
          Save
        </button>
      </div>
    </form>
  );
}

/** Admin: who must have a second factor (docs/mfa.md). */
export function SignInSecurityPage() {
  const policy = useQuery({ queryKey: POLICY_KEY, queryFn: async () => (await get<{ policy: MfaPolicy }>('/settings/mfa-policy')).policy });
  return (
    <>
      <PageHeader title="Sign-in security" lead="Passkeys, authenticator apps and recovery codes protect accounts beyond the password. Each person adds theirs on their account’s security page." />
      <section className="panel">
        <QueryView query={policy} loading="Loading the policy…">
          {(current) => <PolicyForm current={current} />}
        </QueryView>
      </section>
    </>
  );
}

/** On a user's page: removes their factors and recovery codes and ends all their sessions and tokens, after a confirm. */
export function ResetFactors({ userId, name }: { userId: string; name: string }) {
  const [confirming, setConfirming] = useState(false);
  const run = useStepUp();
  const reset = useMutation({ mutationFn: () => run((proof) => del(withQuery(`/users/${userId}/factors`, { step_up: proof }))), onSuccess: () => setConfirming(false) });
  return (
    <section className="panel" aria-labelledby="reset-factors-heading">
      <h2 id="reset-factors-heading">Second factors</h2>
      <p className="muted">When someone has lost their passkey and phone and their recovery codes: they then sign in with their password alone (and add a factor again if the policy requires one).</p>
      {reset.isSuccess && (
        <p className="notice notice-success" role="status">
          The second factors of {name} were reset, and all their sessions and API tokens ended.
        </p>
      )}
      <FormError error={reset.error} plain />
      <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
        Reset second factors
      </button>
      <Modal open={confirming} title={`Reset the second factors of ${name}?`} onClose={() => setConfirming(false)}>
        <p>Their passkeys, authenticator apps and recovery codes are removed, and they are signed out everywhere. This is recorded in the audit log.</p>
        <div className="form-actions">
          <button type="button" className="btn btn-danger" onClick={() => reset.mutate()} disabled={reset.isPending}>
            {reset.isPending ? 'Resetting…' : 'Reset'}
          </button>
          <button type="button" className="btn" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
        <FormError error={reset.error} plain />
      </Modal>
    </section>
  );
}
