import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, patch, post } from '../../api/client.ts';
import { fetchAll, keys, useAllGroups } from '../../api/queries.ts';
import type { ClaimValue } from '../../api/types.ts';
import type { Group, Mapping } from '../../api/admin-types.ts';
import { fieldErrorsOf, fieldErrorsUnderOf, Form, FormError, onSubmitSend, SelectField, SubmitButton, TextField } from '../../components/Field.tsx';
import { QueryView } from '../../components/Status.tsx';
import { formatClaimValue } from '../../lib/format.ts';
import { GroupChecklist, useAddFormOpened } from './common.tsx';

type ValueKind = 'string' | 'list' | 'boolean';

function valueOf(kind: ValueKind, text: string): ClaimValue {
  if (kind === 'boolean') return text === 'true';
  if (kind === 'list')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return text;
}

function MappingForm({ appId, groups }: { appId: string; groups: Group[] }) {
  const client = useQueryClient();
  const [claim, setClaim] = useState('');
  const [kind, setKind] = useState<ValueKind>('string');
  const [value, setValue] = useState('');
  const [groupIds, setGroupIds] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: () => post<Mapping>('/mappings', { app_id: appId, claim, value: valueOf(kind, value), group_ids: groupIds }),
    onSuccess: async () => {
      setClaim('');
      setValue('');
      setGroupIds([]);
      await client.invalidateQueries({ queryKey: keys.admin('mappings', appId) });
    },
  });
  const err = fieldErrorsOf(create.error);
  const opened = useAddFormOpened('mapping');
  return (
    <details className="disclosure nested" open={opened}>
      <summary>Add a mapping</summary>
      <Form onSubmit={onSubmitSend(() => create.mutate())} noValidate className="form-grid">
        <FormError error={create.error} />
        <div className="row-3">
          <TextField label="Claim" name="claim" value={claim} onChange={(e) => setClaim(e.target.value)} error={err('claim')} required hint="e.g. role" />
          <SelectField label="Value type" value={kind} onChange={(e) => setKind(e.target.value as ValueKind)}>
            <option value="string">Text</option>
            <option value="list">List (comma separated)</option>
            <option value="boolean">Boolean</option>
          </SelectField>
          {kind === 'boolean' ? (
            <SelectField label="Value" value={value || 'true'} onChange={(e) => setValue(e.target.value)} error={fieldErrorsUnderOf(create.error)('value')}>
              <option value="true">true</option>
              <option value="false">false</option>
            </SelectField>
          ) : (
            <TextField label="Value" value={value} onChange={(e) => setValue(e.target.value)} error={fieldErrorsUnderOf(create.error)('value')} required />
          )}
        </div>
        <GroupChecklist label="Groups that get this claim" groups={groups} selected={groupIds} onChange={setGroupIds} error={fieldErrorsUnderOf(create.error)('group_ids')} />
        <div className="form-actions">
          <SubmitButton busy={create.isPending}>Add mapping</SubmitButton>
        </div>
      </Form>
    </details>
  );
}

function MappingRow({ mapping, groups }: { mapping: Mapping; groups: Group[] }) {
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [groupIds, setGroupIds] = useState(mapping.group_ids);
  const refresh = () => client.invalidateQueries({ queryKey: keys.admin('mappings', mapping.app_id) });
  const save = useMutation({ mutationFn: () => patch(`/mappings/${mapping.id}`, { group_ids: groupIds }), onSuccess: () => (setEditing(false), refresh()) });
  const remove = useMutation({ mutationFn: () => del(`/mappings/${mapping.id}`), onSuccess: refresh });
  const names = mapping.group_ids.map((id) => groups.find((g) => g.id === id)?.name ?? 'a temporary grant');
  return (
    <li className="mapping">
      <div className="mapping-head">
        <code className="claim">
          {mapping.claim} = {formatClaimValue(mapping.value)}
        </code>
        <span className="muted small">{names.length ? `from ${names.join(', ')}` : 'no groups'}</span>
        <span className="mapping-actions">
          <button type="button" className="btn btn-small" aria-expanded={editing} onClick={() => setEditing(!editing)}>
            Groups<span className="visually-hidden"> of {mapping.claim}</span>
          </button>
          <button
            type="button"
            className="btn btn-small btn-danger"
            disabled={remove.isPending}
            onClick={() => {
              if (window.confirm(`Delete the mapping ${mapping.claim}? Grants that stand on it are revoked.`)) remove.mutate();
            }}
          >
            Delete<span className="visually-hidden"> {mapping.claim}</span>
          </button>
        </span>
      </div>
      <FormError error={save.error ?? remove.error} />
      {editing && (
        <div className="mapping-edit">
          <GroupChecklist label="Groups that get this claim" groups={groups} selected={groupIds} onChange={setGroupIds} error={fieldErrorsOf(save.error)('group_ids')} />
          <button type="button" className="btn btn-primary btn-small" disabled={save.isPending} onClick={() => save.mutate()}>
            Save groups
          </button>
        </div>
      )}
    </li>
  );
}

/** An application's claim mappings: claim = value for members of some groups. */
export function Mappings({ appId }: { appId: string }) {
  const mappings = useQuery({ queryKey: keys.admin('mappings', appId), queryFn: () => fetchAll<Mapping>('/mappings', { app_id: appId }) });
  const groups = useAllGroups();
  return (
    <section className="panel">
      <h2>Mappings</h2>
      <div className="hint-block">
        <p className="small">
          A mapping puts a claim, such as <code>role = admin</code>, into this application&rsquo;s tokens. Who gets it:
        </p>
        <ul className="small">
          <li>
            <strong>Holder groups</strong>: their members always have the claim, for as long as they are members. Use them for access people keep.
          </li>
          <li>
            <strong>Templates</strong>: a template that grants the mapping gives the claim to a requester whose request is approved, only for the time approved; it
            ends on its own. Leave the holder groups empty to give the claim only this way.
          </li>
        </ul>
      </div>
      <QueryView query={mappings} loading="Loading mappings…" isEmpty={(m) => m.length === 0} empty={<p className="muted">No mappings yet.</p>}>
        {(m) => (
          <ul className="mapping-list">
            {m.map((x) => (
              <MappingRow key={x.id} mapping={x} groups={groups.data ?? []} />
            ))}
          </ul>
        )}
      </QueryView>
      <MappingForm appId={appId} groups={groups.data ?? []} />
    </section>
  );
}
