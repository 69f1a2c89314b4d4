import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, get, patch, post } from '../../api/client.ts';
import { fetchAll, keys } from '../../api/queries.ts';
import type { Page } from '../../api/types.ts';
import type { Script, ScriptRun } from '../../api/admin-types.ts';
import { Checkbox, fieldErrorsOf, fieldErrorsUnderOf, Fieldset, Form, FormError, onSubmitSend, SelectField, SubmitButton, TextArea, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Empty, ErrorMessage, QueryView } from '../../components/Status.tsx';
import { Link, navigate } from '../../router.tsx';
import { DeleteButton, lines, useDeleteAndReturn } from './common.tsx';
import { ScriptSecretsPanel, useScriptSecrets } from './ScriptSecrets.tsx';
import { Time } from '../../components/Time.tsx';

const SAMPLE = `// Runs in a sandbox on each event of the templates that use it.
// config.get('trigger_event'), config.get('requester_email'), config.get('field.ticket') …
log.info('event', config.get('trigger_event'), 'for', config.get('requester_email'));
`;

const EVENTS = [
  'submitted',
  'stage_approved',
  'approved',
  'denied',
  'cancelled',
  'escalated',
  'expiring_soon',
  'expired',
  'revoked',
  'comment_added',
  'provisioning_reverted',
  'lapsed',
  'break_glass_activated',
  'break_glass_reviewed',
  'extension_requested',
  'extended',
  'extension_denied',
  'activated',
];

const unavailable = (error: unknown) => error instanceof ApiError && error.status === 404;

export function ScriptsPage() {
  const client = useQueryClient();
  const q = useSearchQuery();
  const scripts = useQuery({ queryKey: keys.admin('scripts', 'list', q), queryFn: () => fetchAll<Script>('/scripts', q ? { q } : {}), retry: false });
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => post<Script>('/scripts', { name, source: SAMPLE }),
    onSuccess: async (s) => {
      await client.invalidateQueries({ queryKey: keys.admin('scripts') });
      navigate(`/admin/scripts/${s.id}`);
    },
  });
  if (unavailable(scripts.error)) {
    return (
      <>
        <PageHeader title="Scripts" />
        <Empty title="Scripts are not available on this server">This version of Interim has no script API yet.</Empty>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Scripts" lead="Sandboxed JavaScript that templates run as trigger tasks and event actions run on events." />
      <Form onSubmit={onSubmitSend(() => create.mutate())} noValidate className="panel inline-form" aria-label="New script">
        <FormError error={create.error} />
        <TextField label="New script name" value={name} onChange={(e) => setName(e.target.value)} error={fieldErrorsOf(create.error)('name')} />
        <SubmitButton busy={create.isPending}>Create script</SubmitButton>
      </Form>
      <SearchBox label="Search scripts by name" placeholder="part of a name" />
      <QueryView
        query={scripts}
        loading="Loading scripts…"
        isEmpty={(s) => s.length === 0}
        empty={
          <SearchEmpty q={q}>
            <Empty title="No scripts yet" />
          </SearchEmpty>
        }
      >
        {(s) => (
          <ul className="stack compact">
            {s.map((x) => (
              <li key={x.id} className="card row-card">
                <Link to={`/admin/scripts/${x.id}`}>{x.name}</Link>
                <span className="muted small">{x.description}</span>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
      <ScriptSecretsPanel />
    </>
  );
}

function TestRun({ scriptId }: { scriptId: string }) {
  const client = useQueryClient();
  const [type, setType] = useState('approved');
  const [overrides, setOverrides] = useState('');
  const run = useMutation({
    mutationFn: () => {
      const config: Record<string, string> = {};
      for (const line of lines(overrides)) {
        const eq = line.indexOf('=');
        if (eq > 0) config[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
      }
      return post<ScriptRun>(`/scripts/${scriptId}/test`, { event: { type, config } });
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.admin('scripts', scriptId, 'runs') }),
  });
  return (
    <section className="panel">
      <h2>Test run</h2>
      <p className="muted small">Runs the saved script now against a sample event. Save your changes first.</p>
      <Form onSubmit={onSubmitSend(() => run.mutate())} noValidate className="form-grid">
        <SelectField label="Sample event" value={type} onChange={(e) => setType(e.target.value)}>
          {EVENTS.map((x) => (
            <option key={x} value={x}>
              {x.replace(/_/g, ' ')}
            </option>
          ))}
        </SelectField>
        <TextArea label="Config overrides" hint="One key=value per line, e.g. field.ticket=INC-1" rows={2} value={overrides} onChange={(e) => setOverrides(e.target.value)} error={fieldErrorsUnderOf(run.error)('event')} />
        <SubmitButton busy={run.isPending} busyLabel="Running…">
          Run test
        </SubmitButton>
      </Form>
      {run.isError && (unavailable(run.error) ? <p className="notice">Test runs are not available on this server.</p> : <ErrorMessage error={run.error} title="The test run could not start" />)}
      {run.data && <RunResult run={run.data} />}
    </section>
  );
}

function RunResult({ run }: { run: ScriptRun }) {
  return (
    <div className={`run-result run-${run.status}`} role="status">
      <p>
        <strong>{run.status.replace('_', ' ')}</strong> in {run.duration_ms} ms
      </p>
      {run.error && <pre className="code-block error-text">{run.error}</pre>}
      {run.logs.length > 0 ? <pre className="code-block">{run.logs.map((l) => `[${l.level}] ${l.message}`).join('\n')}</pre> : <p className="muted small">No log lines.</p>}
    </div>
  );
}

function Runs({ scriptId }: { scriptId: string }) {
  const runs = useQuery({ queryKey: keys.admin('scripts', scriptId, 'runs'), queryFn: () => get<Page<ScriptRun>>(`/scripts/${scriptId}/runs`, { limit: 20 }) });
  return (
    <section className="panel">
      <h2>Recent runs</h2>
      <QueryView query={runs} loading="Loading runs…" isEmpty={(r) => r.items.length === 0} empty={<p className="muted">No runs yet.</p>}>
        {(r) => (
          <ul className="plain-list">
            {r.items.map((x) => (
              <li key={x.id}>
                <span className={`badge badge-run-${x.status}`}>{x.status.replace('_', ' ')}</span> {x.trigger_event} · <Time iso={x.started_at} /> · {x.duration_ms} ms
                {x.error && <span className="muted small"> — {x.error}</span>}
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </section>
  );
}

function ScriptForm({ script }: { script: Script }) {
  const client = useQueryClient();
  const secrets = useScriptSecrets();
  const [d, setD] = useState({ name: script.name, description: script.description, source: script.source, allowed_hosts: script.allowed_hosts.join('\n'), secret_ids: script.secret_ids });
  const save = useMutation({
    mutationFn: () => patch<Script>(`/scripts/${script.id}`, { ...d, allowed_hosts: lines(d.allowed_hosts) }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.admin('scripts') }),
  });
  const remove = useDeleteAndReturn(`/scripts/${script.id}`, 'scripts', '/admin/scripts');
  const err = fieldErrorsOf(save.error);
  return (
    <Form onSubmit={onSubmitSend(() => save.mutate())} noValidate className="panel form-grid">
      <FormError error={save.error ?? remove.error} />
      {save.isSuccess && (
        <p className="notice notice-success" role="status">
          Saved.
        </p>
      )}
      <TextField label="Name" value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} error={err('name')} />
      <TextField label="Description" value={d.description} onChange={(e) => setD({ ...d, description: e.target.value })} error={err('description')} />
      <TextArea label="Source" className="code" rows={16} spellCheck={false} value={d.source} onChange={(e) => setD({ ...d, source: e.target.value })} error={err('source')} />
      <TextArea label="Allowed hosts" hint="Hosts http.fetch may reach, one per line." rows={2} value={d.allowed_hosts} onChange={(e) => setD({ ...d, allowed_hosts: e.target.value })} error={fieldErrorsUnderOf(save.error)('allowed_hosts')} />
      {secrets.data && secrets.data.length > 0 && (
        <Fieldset legend="Secrets this script may read" error={fieldErrorsUnderOf(save.error)('secret_ids')}>
          {secrets.data.map((x) => (
            <Checkbox
              key={x.id}
              label={x.name}
              checked={d.secret_ids.includes(x.id)}
              onChange={(e) => setD({ ...d, secret_ids: e.target.checked ? [...d.secret_ids, x.id] : d.secret_ids.filter((y) => y !== x.id) })}
            />
          ))}
        </Fieldset>
      )}
      <div className="form-actions">
        <SubmitButton busy={save.isPending} busyLabel="Saving…">
          Save script
        </SubmitButton>
        <DeleteButton what={`the script ${script.name}`} busy={remove.isPending} onDelete={() => remove.mutate()} />
      </div>
    </Form>
  );
}

export function ScriptDetailPage({ id }: { id: string }) {
  const script = useQuery({ queryKey: keys.admin('scripts', id), queryFn: () => get<Script>(`/scripts/${id}`), retry: false });
  return (
    <>
      <PageHeader title={script.data?.name ?? 'Script'} />
      <QueryView query={script} loading="Loading the script…">
        {(s) => (
          <div className="detail-grid">
            <div className="detail-main">
              <ScriptForm script={s} />
            </div>
            <div className="detail-side">
              <TestRun scriptId={s.id} />
              <Runs scriptId={s.id} />
            </div>
          </div>
        )}
      </QueryView>
    </>
  );
}
