import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, patch, post } from '../../api/client.ts';
import { fetchAll, keys } from '../../api/queries.ts';
import type { EventAction } from '../../api/admin-types.ts';
import { Checkbox, FormError } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Empty, QueryView } from '../../components/Status.tsx';
import { eventLabel } from '../../lib/format.ts';
import { Link, navigate } from '../../router.tsx';
import { DeleteButton, SecretOnce, useAllTemplates, useDeleteAndReturn } from './common.tsx';
import { DeliveryTable } from './Deliveries.tsx';
import { EventActionForm, type ActionBody } from './EventActionForm.tsx';


function describe(a: EventAction): string {
  switch (a.kind) {
    case 'webhook':
      return `POST to ${a.config.url}`;
    case 'slack':
      return `Slack via ${a.config.webhook_url_host}`;
    case 'slack_app':
      return `Slack app in channel ${a.config.channel}, with Approve and Deny buttons`;
    case 'email':
      return a.config.recipients === 'addresses' ? `email to ${(a.config.addresses ?? []).join(', ')}` : `email to the ${a.config.recipients}`;
    case 'script':
      return 'runs a script';
  }
}

export function EventActionsPage() {
  const client = useQueryClient();
  const q = useSearchQuery();
  const actions = useQuery({ queryKey: keys.admin('event-actions', 'list', q), queryFn: () => fetchAll<EventAction>('/event-actions', q ? { q } : {}) });
  const templates = useAllTemplates();
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  const create = useMutation({
    mutationFn: (body: ActionBody) => post<EventAction>('/event-actions', body),
    onSuccess: async (a) => {
      await client.invalidateQueries({ queryKey: keys.admin('event-actions') });
      if (a.signing_secret) setSecret({ id: a.id, value: a.signing_secret });
      else navigate(`/admin/event-actions/${a.id}`);
    },
  });
  return (
    <>
      <PageHeader title="Event actions" lead="Rules that send a webhook, a Slack message, an email or run a script when requests change." />
      {secret && <SecretOnce label="Webhook signing secret" value={secret.value} onDismiss={() => navigate(`/admin/event-actions/${secret.id}`)} />}
      <details className="panel disclosure">
        <summary>Add an event action</summary>
        <EventActionForm templates={templates.data ?? []} busy={create.isPending} error={create.error} submitLabel="Add action" onSubmit={(b) => create.mutate(b)} />
      </details>
      <SearchBox label="Search event actions by name or event" placeholder="part of a name or an event such as approved" />
      <QueryView
        query={actions}
        loading="Loading event actions…"
        isEmpty={(a) => a.length === 0}
        empty={
          <SearchEmpty q={q}>
            <Empty title="No event actions yet" />
          </SearchEmpty>
        }
      >
        {(list) => (
          <ul className="stack compact">
            {list.map((a) => (
              <li key={a.id} className="card row-card">
                <Link to={`/admin/event-actions/${a.id}`}>{a.name}</Link>
                <span className="muted small">
                  {describe(a)} · on {a.event_types.map(eventLabel).join(', ')}
                </span>
                {!a.enabled && <span className="badge badge-cancelled">Disabled</span>}
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </>
  );
}

function ActionSettings({ action }: { action: EventAction }) {
  const client = useQueryClient();
  const templates = useAllTemplates();
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: keys.admin('event-actions') });
  const save = useMutation({ mutationFn: (body: Partial<ActionBody>) => patch<EventAction>(`/event-actions/${action.id}`, body), onSuccess: refresh });
  const toggle = useMutation({ mutationFn: (enabled: boolean) => patch<EventAction>(`/event-actions/${action.id}`, { enabled }), onSuccess: refresh });
  const rotate = useMutation({
    mutationFn: () => post<EventAction>(`/event-actions/${action.id}/rotate-secret`),
    onSuccess: (a) => setSecret(a.signing_secret ?? null),
  });
  const remove = useDeleteAndReturn(`/event-actions/${action.id}`, 'event-actions', '/admin/event-actions');
  return (
    <section className="panel">
      <h2>Settings</h2>
      <p>{describe(action)}</p>
      <Checkbox label="Enabled" checked={action.enabled} disabled={toggle.isPending} onChange={(e) => toggle.mutate(e.target.checked)} />
      {secret && <SecretOnce label="New signing secret" value={secret} onDismiss={() => setSecret(null)} />}
      <details className="disclosure nested">
        <summary>Edit</summary>
        <EventActionForm key={action.updated_at} initial={action} templates={templates.data ?? []} busy={save.isPending} error={save.error} submitLabel="Save" onSubmit={(b) => save.mutate(b)} />
      </details>
      <div className="form-actions separated">
        <FormError error={toggle.error ?? rotate.error ?? remove.error} />
        {action.kind === 'webhook' && (
          <button type="button" className="btn" disabled={rotate.isPending} onClick={() => window.confirm('Replace the signing secret? Receivers must use the new one.') && rotate.mutate()}>
            Rotate signing secret
          </button>
        )}
        <DeleteButton what={`the action ${action.name}`} busy={remove.isPending} onDelete={() => remove.mutate()} />
      </div>
    </section>
  );
}

export function EventActionDetailPage({ id }: { id: string }) {
  const action = useQuery({ queryKey: keys.admin('event-actions', id), queryFn: () => get<EventAction>(`/event-actions/${id}`) });
  return (
    <>
      <PageHeader title={action.data?.name ?? 'Event action'} lead={action.data ? `On ${action.data.event_types.map(eventLabel).join(', ')}` : undefined} />
      <QueryView query={action} loading="Loading the action…">
        {(a) => (
          <>
            <ActionSettings action={a} />
            <section className="panel">
              <h2>Delivery history</h2>
              <DeliveryTable path={`/event-actions/${a.id}/deliveries`} />
            </section>
          </>
        )}
      </QueryView>
    </>
  );
}
