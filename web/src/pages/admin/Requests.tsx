import { useState, type FormEvent } from 'react';
import { withQuery } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { AccessRequest, RequestStatus } from '../../api/types.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { PersonLines, RequestLines, StatusBadge } from '../../components/RequestBits.tsx';
import { Empty, PagedView } from '../../components/Status.tsx';
import { Time } from '../../components/Time.tsx';
import { STATUS_LABEL } from '../../lib/format.ts';
import { fromZonedInput, toZonedInput } from '../../lib/time.ts';
import { navigate, useLocation } from '../../router.tsx';
import { useAllTemplates, useAllUsers } from './common.tsx';

type Sort = 'submitted' | 'updated' | 'ends';
type Order = 'asc' | 'desc';

/** The page's state, exactly as the URL holds it (so a view can be linked and survives reload). */
interface Filters {
  status: RequestStatus[];
  requester_id: string;
  template_id: string;
  approver_id: string;
  /** ISO instants, as the API takes them. */
  submitted_from: string;
  submitted_to: string;
  q: string;
  sort: Sort;
  order: Order;
}

const STATUSES = Object.keys(STATUS_LABEL) as RequestStatus[];
const SORTS: Sort[] = ['submitted', 'updated', 'ends'];
const PAGE_SIZE = 25;
/** "Active" on a badge; a filter on approved also finds scheduled grants and says so plainly. */
const filterLabel = (s: RequestStatus) => (s === 'approved' ? 'Approved' : STATUS_LABEL[s]);

function filtersFrom(search: URLSearchParams): Filters {
  const sort = search.get('sort') as Sort | null;
  return {
    status: (search.get('status') ?? '').split(',').filter((s): s is RequestStatus => (STATUSES as string[]).includes(s)),
    requester_id: search.get('requester_id') ?? '',
    template_id: search.get('template_id') ?? '',
    approver_id: search.get('approver_id') ?? '',
    submitted_from: search.get('submitted_from') ?? '',
    submitted_to: search.get('submitted_to') ?? '',
    q: search.get('q') ?? '',
    sort: sort && SORTS.includes(sort) ? sort : 'submitted',
    order: search.get('order') === 'asc' ? 'asc' : 'desc',
  };
}

/** The API query (and the URL's): blanks and defaults left out. */
function queryOf(f: Filters): Record<string, string | undefined> {
  return {
    status: f.status.length ? f.status.join(',') : undefined,
    requester_id: f.requester_id || undefined,
    template_id: f.template_id || undefined,
    approver_id: f.approver_id || undefined,
    submitted_from: f.submitted_from || undefined,
    submitted_to: f.submitted_to || undefined,
    q: f.q.trim() || undefined,
    sort: f.sort === 'submitted' ? undefined : f.sort,
    order: f.order === 'desc' ? undefined : f.order,
  };
}

function show(f: Filters) {
  navigate(withQuery('/admin/requests', queryOf(f)));
}

/** datetime-local speaks a wall-clock time in the user's zone (lib/time.ts); the URL keeps instants. */
const toLocalInput = (iso: string) => (iso ? toZonedInput(Date.parse(iso)) : '');
const fromLocalInput = (local: string) => {
  const ms = fromZonedInput(local);
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
};

function FilterForm({ initial }: { initial: Filters }) {
  const [f, setF] = useState(initial);
  const users = useAllUsers();
  const templates = useAllTemplates();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    show(f);
  };
  const toggleStatus = (s: RequestStatus, on: boolean) => setF({ ...f, status: on ? [...f.status, s] : f.status.filter((x) => x !== s) });
  const people = (users.data ?? []).map((u) => (
    <option key={u.id} value={u.id}>
      {u.name ? `${u.name} (${u.email})` : u.email}
    </option>
  ));
  return (
    <form onSubmit={submit} className="panel filters-grid requests-filters" aria-label="Filter requests">
      <TextField label="Search" type="search" placeholder="Reason, person, template or application" value={f.q} onChange={(e) => setF({ ...f, q: e.target.value })} maxLength={200} />
      <SelectField label="Requester" value={f.requester_id} onChange={(e) => setF({ ...f, requester_id: e.target.value })}>
        <option value="">Anyone</option>
        {people}
      </SelectField>
      <SelectField label="Template" value={f.template_id} onChange={(e) => setF({ ...f, template_id: e.target.value })}>
        <option value="">Any template</option>
        {(templates.data ?? []).map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Approver" hint="Approved, denied or voted on it" value={f.approver_id} onChange={(e) => setF({ ...f, approver_id: e.target.value })}>
        <option value="">Anyone</option>
        {people}
      </SelectField>
      <TextField label="Submitted from" type="datetime-local" value={toLocalInput(f.submitted_from)} onChange={(e) => setF({ ...f, submitted_from: fromLocalInput(e.target.value) })} />
      <TextField label="Submitted until" type="datetime-local" value={toLocalInput(f.submitted_to)} onChange={(e) => setF({ ...f, submitted_to: fromLocalInput(e.target.value) })} />
      <fieldset className="fieldset status-filter">
        <legend>Status</legend>
        <ul className="checkbox-row">
          {STATUSES.map((s) => (
            <li key={s}>
              <label>
                <input type="checkbox" checked={f.status.includes(s)} onChange={(e) => toggleStatus(s, e.target.checked)} /> {filterLabel(s)}
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary">
          Apply filters
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => show({ ...filtersFrom(new URLSearchParams()), sort: f.sort, order: f.order })}>
          Clear
        </button>
      </div>
    </form>
  );
}

const SORT_LABEL: Record<Sort, string> = { submitted: 'Submitted', updated: 'Last change', ends: 'Ends' };

/** A column header that sorts: the button says what a press does, aria-sort says the current state. */
function SortHeader({ sort, filters }: { sort: Sort; filters: Filters }) {
  const active = filters.sort === sort;
  const next: Order = active && filters.order === 'desc' ? 'asc' : 'desc';
  return (
    <th scope="col" aria-sort={active ? (filters.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort-button" onClick={() => show({ ...filters, sort, order: active ? next : 'desc' })}>
        {SORT_LABEL[sort]}
        <span aria-hidden="true" className="sort-mark">
          {active ? (filters.order === 'asc' ? ' ▲' : ' ▼') : ''}
        </span>
      </button>
    </th>
  );
}

function RequestRow({ r }: { r: AccessRequest }) {
  return (
    <tr>
      <td>
        <RequestLines request={r} />
      </td>
      <td>
        <PersonLines person={r.requester} />
      </td>
      <td>
        <StatusBadge status={r.status} escalated={r.escalated} scheduled={r.scheduled} />
        {r.decided_by && <span className="muted small block">by {r.decided_by.name || r.decided_by.email}</span>}
      </td>
      <td className="nowrap">
        <Time iso={r.created_at} />
      </td>
      <td className="nowrap">
        <Time iso={r.updated_at} />
      </td>
      <td className="nowrap">
        <Time iso={r.expires_at} />
      </td>
    </tr>
  );
}

/** Every request, for admins: filters, search and sort live in the URL; the CSV export takes the same filters. */
export function RequestsPage() {
  const { search } = useLocation();
  const filters = filtersFrom(search);
  const query = queryOf(filters);
  const list = usePagedList<AccessRequest>(keys.requests('admin-all'), '/access-requests/all', query, PAGE_SIZE);
  return (
    <>
      <PageHeader
        title="Requests"
        lead="Every access request, from everyone. Filter, search and sort; the address keeps the view, so you can share it."
        actions={
          <a className="btn btn-small" href={withQuery('/api/v1/access-requests/export', query)} download>
            Export CSV
          </a>
        }
      />
      <FilterForm key={search.toString()} initial={filters} />
      <PagedView query={list} loading="Loading requests…" empty={<Empty title="No requests match these filters" />}>
        {(requests) => (
          <div className="table-wrap">
            <table className="requests-table">
              <caption className="visually-hidden">Requests</caption>
              <thead>
                <tr>
                  <th scope="col">Request</th>
                  <th scope="col">Requester</th>
                  <th scope="col">Status</th>
                  {SORTS.map((s) => (
                    <SortHeader key={s} sort={s} filters={filters} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {requests.map((r) => (
                  <RequestRow key={r.id} r={r} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </PagedView>
    </>
  );
}
