import { useState, type FormEvent } from 'react';
import { withQuery } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { NamedAuditEvent } from '../../api/admin-types.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { Empty, PagedView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { Link } from '../../router.tsx';
import { useAllUsers } from './common.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Time } from '../../components/Time.tsx';
import { targetHref, TARGET_LABELS } from './audit-links.ts';
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

function Actor({ e }: { e: NamedAuditEvent }) {
  if (e.actor_type === 'system' || !e.actor) return <em>system</em>;
  const { actor } = e;
  return (
    <>
      {actor.deleted ? actor.name : <Link to={`/admin/users/${actor.id}`}>{actor.name}</Link>}
      {actor.email && (
        <>
          <br />
          <span className="muted small">{actor.email}</span>
        </>
      )}
      {actor.deleted && <span className="badge badge-cancelled">deleted</span>}
    </>
  );
}

function Target({ e }: { e: NamedAuditEvent }) {
  const { target } = e;
  if (!target) return <span className="muted">{TARGET_LABELS[e.target_type] ?? e.target_type}</span>;
  const href = target.deleted ? null : targetHref(target);
  return (
    <>
      <span className="muted small">{TARGET_LABELS[target.type] ?? target.type}</span>
      <br />
      {href ? <Link to={href}>{target.name}</Link> : target.name}
      {target.deleted && <span className="badge badge-cancelled">deleted</span>}
      {e.request_id && target.type !== 'access_request' && (
        <>
          <br />
          <Link to={`/requests/${e.request_id}`} className="small">
            its request
          </Link>
        </>
      )}
    </>
  );
}

function EventRow({ e }: { e: NamedAuditEvent }) {
  return (
    <tr>
      <td className="nowrap">
        <Time iso={e.at} absolute />
        <br />
        <span className="muted small">#{e.seq}</span>
      </td>
      <td>
        <Actor e={e} />
      </td>
      <td>
        <code>{e.action}</code>
      </td>
      <td className="small">
        <Target e={e} />
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
  const q = useSearchQuery();
  const query = { ...queryOf(filters), q: q || undefined };
  const list = usePagedList<NamedAuditEvent>(keys.admin('audit'), '/audit-events', query, 100);
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
      <SearchBox label="Search the audit log" placeholder="an actor's email or name, a target's name, or an action" />
      <FilterForm initial={filters} onApply={setFilters} />
      <PagedView
        query={list}
        loading="Loading the audit log…"
        empty={
          <SearchEmpty q={q}>
            <Empty title="No events match these filters" />
          </SearchEmpty>
        }
      >
        {(events) => (
          <DataTable caption="Audit events" className="audit-table" columns={['When', 'Actor', 'Action', 'Target', 'Details']}>
            {events.map((e) => (
              <EventRow key={e.seq} e={e} />
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}
