import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { post } from '../../api/client.ts';
import { fetchAll, keys, usePagedList } from '../../api/queries.ts';
import type { Delivery, EventAction, Script } from '../../api/admin-types.ts';
import { SelectField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Empty, PagedView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { eventLabel } from '../../lib/format.ts';
import { Link } from '../../router.tsx';
import { Time } from '../../components/Time.tsx';
import { useAllScripts } from './common.tsx';

function RetryButton({ delivery }: { delivery: Delivery }) {
  const client = useQueryClient();
  const retry = useMutation({
    mutationFn: () => post(`/deliveries/${delivery.id}/retry`),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.admin('deliveries') }),
  });
  if (delivery.status === 'pending' || delivery.status === 'running') return null;
  return (
    <>
      <button type="button" className="btn btn-small" disabled={retry.isPending} onClick={() => retry.mutate()}>
        {retry.isPending ? 'Queuing…' : 'Retry'}
        <span className="visually-hidden"> delivery to {delivery.target}</span>
      </button>
      {retry.error && (
        <span className="field-error" role="alert">
          {retry.error.message}
        </span>
      )}
    </>
  );
}

const useAllEventActions = () => useQuery({ queryKey: keys.admin('event-actions', 'all'), queryFn: () => fetchAll<EventAction>('/event-actions') });

/**
 * Where a delivery goes, by name: an event action's or a trigger script's target is its id
 * (`action:<id>`, `trigger:<id>`), shown as the action or script it names, linked.
 */
function DeliveryTarget({ delivery, actions, scripts }: { delivery: Delivery; actions?: EventAction[]; scripts?: Script[] }) {
  const [kind, id] = delivery.target.split(/:(.*)/s) as [string, string | undefined];
  if ((kind === 'action' && !actions) || (kind === 'trigger' && !scripts)) return <code className="small">{delivery.target}</code>;
  if (kind === 'action' && id) {
    const action = actions?.find((a) => a.id === id);
    return action ? <Link to={`/admin/event-actions/${id}`}>{action.name}</Link> : <span className="muted small">a deleted event action</span>;
  }
  if (kind === 'trigger' && id) {
    const script = scripts?.find((s) => s.id === id);
    return script ? (
      <>
        trigger task <Link to={`/admin/scripts/${id}`}>{script.name}</Link>
      </>
    ) : (
      <span className="muted small">a deleted script</span>
    );
  }
  return <code className="small">{delivery.target}</code>;
}

/** Deliveries with their latest attempts; a dead or finished one can be sent again. */
export function DeliveryTable({ path, query = {} }: { path: string; query?: Record<string, string | undefined> }) {
  const list = usePagedList<Delivery>(keys.admin('deliveries', path), path, query, 30);
  const actions = useAllEventActions();
  const scripts = useAllScripts();
  return (
    <PagedView
      query={list}
      loading="Loading deliveries…"
      empty={
        <SearchEmpty q={query.q ?? ''}>
          <Empty title="No deliveries" />
        </SearchEmpty>
      }
    >
      {(deliveries) => (
        <DataTable caption="Deliveries" columns={['Event', 'Channel and target', 'Status', 'Attempts', 'Last error']} actions>
          {deliveries.map((x) => (
            <tr key={x.id}>
              <td>
                {eventLabel(x.event_type)}
                <br />
                <span className="muted small"><Time iso={x.created_at} /></span>
                {x.request_id && (
                  <>
                    <br />
                    <Link to={`/requests/${x.request_id}`} className="small">
                      request
                    </Link>
                  </>
                )}
              </td>
              <td>
                {x.channel}
                <br />
                <DeliveryTarget delivery={x} actions={actions.data} scripts={scripts.data} />
              </td>
              <td>
                <span className={`badge badge-delivery-${x.status}`}>{x.status}</span>
              </td>
              <td>
                {x.attempts}/{x.max_attempts}
                {x.recent_attempts.length > 0 && (
                  <details className="attempts">
                    <summary>history</summary>
                    <ul>
                      {x.recent_attempts.map((a) => (
                        <li key={a.at}>
                          <Time iso={a.at} />: {a.ok ? 'ok' : 'failed'}
                          {a.response_status !== null && ` (${a.response_status})`} {a.duration_ms} ms{a.error ? ` — ${a.error}` : ''}
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </td>
              <td className="small">{x.last_error ?? '—'}</td>
              <td>
                <RetryButton delivery={x} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </PagedView>
  );
}

export function DeliveriesPage() {
  const [status, setStatus] = useState('');
  const [channel, setChannel] = useState('');
  const q = useSearchQuery();
  return (
    <>
      <PageHeader title="Deliveries" lead="Every notification, webhook, script and trigger task sent for an event, with its attempts." />
      <SearchBox label="Search deliveries by channel, target or event" placeholder="e.g. webhook, an address or approved" />
      <div className="filters">
        <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">Any</option>
          {['pending', 'running', 'succeeded', 'dead'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </SelectField>
        <SelectField label="Channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
          <option value="">Any</option>
          {['email', 'slack', 'webhook', 'script', 'trigger'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </SelectField>
      </div>
      <DeliveryTable path="/deliveries" query={{ q: q || undefined, status: status || undefined, channel: channel || undefined }} />
    </>
  );
}
