import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, post } from '../../api/client.ts';
import { fetchAll, keys } from '../../api/queries.ts';
import { fieldErrorsOf, Form, FormError, onSubmitSend, SubmitButton, TextField } from '../../components/Field.tsx';
import { QueryView } from '../../components/Status.tsx';

export interface ScriptSecret {
  id: string;
  name: string;
  script_ids: string[];
}

export const useScriptSecrets = () => useQuery({ queryKey: keys.admin('script-secrets'), queryFn: () => fetchAll<ScriptSecret>('/script-secrets'), retry: false });

/** Secrets scripts may read once granted. Values are write-only. */
export function ScriptSecretsPanel() {
  const client = useQueryClient();
  const secrets = useScriptSecrets();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const refresh = () => client.invalidateQueries({ queryKey: keys.admin('script-secrets') });
  const create = useMutation({
    mutationFn: () => post('/script-secrets', { name, value }),
    onSuccess: async () => {
      setName('');
      setValue('');
      await refresh();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => del(`/script-secrets/${id}`), onSuccess: refresh });
  const err = fieldErrorsOf(create.error);
  return (
    <section className="panel">
      <h2>Script secrets</h2>
      <p className="muted small">Stored encrypted; a script reads only the secrets granted to it, and the value is never shown again.</p>
      <QueryView query={secrets} loading="Loading secrets…" isEmpty={(s) => s.length === 0} empty={<p className="muted">No secrets yet.</p>}>
        {(s) => (
          <ul className="plain-list">
            {s.map((x) => (
              <li key={x.id}>
                <code>{x.name}</code> <span className="muted small">granted to {x.script_ids.length} script(s)</span>{' '}
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  onClick={() => {
                    if (window.confirm(`Delete the secret ${x.name}?`)) remove.mutate(x.id);
                  }}
                >
                  Delete<span className="visually-hidden"> {x.name}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
      <Form onSubmit={onSubmitSend(() => create.mutate())} noValidate className="inline-form" aria-label="New secret">
        <FormError error={create.error ?? remove.error} />
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={err('name')} />
        <TextField label="Value" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} error={err('value')} />
        <SubmitButton className="btn" busy={create.isPending}>
          Add secret
        </SubmitButton>
      </Form>
    </section>
  );
}
