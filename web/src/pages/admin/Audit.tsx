import { useState, type FormEvent } from 'react';
import { withQuery } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { AuditEvent } from '../../api/types.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { Empty, PagedView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { Link } from '../../router.tsx';
import { useAllUsers } from './common.tsx';
import { Time } from '../../components/Time.tsx';
import { fromZonedInput } from '../../lib/time.ts';

interface Filters {
  action: string;
  actor_id: string;
  request_id: string;
  target_id: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { action: '', actor_id: '', request_id: '', target_id: '', from: '', to: '' };

/** The filters as API query parameters: blanks dropped, local date-times as instants. */
function queryOf(f: Filters): Record<string, string | undefined> {
  // In the user's zone, as the portal shows times (lib/time.ts).
  const instant = (v: string) => (v && !Number.isNaN(fromZonedInput(v)) ? new Date(fromZonedInput(v)).toISOString() : undefined);
  return {
    action: f.action.trim() || undefined,
    actor_id: f.actor_id || undefined,
    request_id: f.request_id.trim() || undefined,
    target_id: f.target_id.trim() || undefined,
    from: instant(f.from),
    to: instant(f.to),
  };
}

function FilterForm({ initial, onApply }: { initial: Filters; onApply: (f: Filters) => void }) {
  const [f, setF] = useState(initial);
  const users = useAllUsers();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(f);
  };
  return (
    <form onSubmit={submit} className="panel filters-grid" aria-label="Filter the audit log">
      <TextField label="Action starts with" placeholder="e.g. access_request. or user.created" value={f.action} onChange={(e) => setF({ ...f, action: e.target.value })} />
      <SelectField label="Actor" value={f.actor_id} onChange={(e) => setF({ ...f, actor_id: e.target.value })}>
        <option value="">Anyone</option>
        {(users.data ?? []).map((u) => (
          <option key={u.id} value={u.id}>
            {u.email}
          </option>
        ))}
      </SelectField>
      <TextField label="Request id" value={f.request_id} onChange={(e) => setF({ ...f, request_id: e.target.value })} />
      <TextField label="Target id" value={f.target_id} onChange={(e) => setF({ ...f, target_id: e.target.value })} />
      <TextField label="From" type="datetime-local" value={f.from} onChange={(e) => setF({ ...f, from: e.target.value })} />
      <TextField label="To" type="datetime-local" value={f.to} onChange={(e) => setF({ ...f, to: e.target.value })} />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">
          Apply filters
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setF(EMPTY);
            onApply(EMPTY);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

function EventRow({ e, actorName }: { e: AuditEvent; actorName: (id: string | null) => string }) {
  return (
    <tr>
      <td className="nowrap">
        <Time iso={e.at} absolute />
        <br />
        <span className="muted small">#{e.seq}</span>
      </td>
      <td>{e.actor_type === 'system' ? <em>system</em> : actorName(e.actor_id)}</td>
      <td>
        <code>{e.action}</code>
      </td>
      <td className="small">
        {e.target_type}
        {e.request_id && (
          <>
            <br />
            <Link to={`/requests/${e.request_id}`}>request</Link>
          </>
        )}
      </td>
      <td>
        <details>
          <summary>data</summary>
          <pre className="code-block">{JSON.stringify(e.data, null, 2)}</pre>
        </details>
      </td>
    </tr>
  );
}

/** The audit log, newest first, with filters and export links for the same filters. */
export function AuditPage() {
  const [filters, setFilters] = useState<Filters>(() => ({ ...EMPTY, request_id: new URLSearchParams(window.location.search).get('request_id') ?? '' }));
  const query = queryOf(filters);
  const list = usePagedList<AuditEvent>(keys.admin('audit'), '/audit-events', query, 100);
  const users = useAllUsers();
  const actorName = (id: string | null) => users.data?.find((u) => u.id === id)?.email ?? id ?? '—';
  return (
    <>
      <PageHeader
        title="Audit log"
        lead="Every change, hash-chained. Newest first."
        actions={
          <span className="export-links">
            Export:{' '}
            <a className="btn btn-small" href={withQuery('/api/v1/audit-events/export', { ...query, format: 'csv' })} download>
              CSV
            </a>{' '}
            <a className="btn btn-small" href={withQuery('/api/v1/audit-events/export', { ...query, format: 'ndjson' })} download>
              NDJSON
            </a>
          </span>
        }
      />
      <FilterForm initial={filters} onApply={setFilters} />
      <PagedView query={list} loading="Loading the audit log…" empty={<Empty title="No events match these filters" />}>
        {(events) => (
          <DataTable caption="Audit events" className="audit-table" columns={['When', 'Actor', 'Action', 'Target', 'Details']}>
            {events.map((e) => (
              <EventRow key={e.seq} e={e} actorName={actorName} />
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}
