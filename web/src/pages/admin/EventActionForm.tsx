import { useState } from 'react';
import { EVENT_TYPES, type EventAction, type EventActionKind, type EventType, type Template } from '../../api/admin-types.ts';
import { Checkbox, fieldErrorsOf, fieldErrorsUnderOf, Fieldset, Form, FormError, onSubmitSend, SelectField, SubmitButton, TextArea, TextField } from '../../components/Field.tsx';
import { eventLabel } from '../../lib/format.ts';
import { lines, useAllScripts } from './common.tsx';

export interface ActionBody {
  name: string;
  enabled?: boolean;
  event_types: EventType[];
  template_id: string | null;
  kind: EventActionKind;
  config?: Record<string, unknown>;
}

interface Draft {
  name: string;
  kind: EventActionKind;
  event_types: EventType[];
  template_id: string;
  url: string;
  signing_secret: string;
  webhook_url: string;
  channel: string;
  recipients: 'requester' | 'approvers' | 'addresses';
  addresses: string;
  script_id: string;
}

function draftOf(a?: EventAction): Draft {
  return {
    name: a?.name ?? '',
    kind: a?.kind ?? 'webhook',
    event_types: a?.event_types ?? ['access_request.approved', 'access_request.expired', 'access_request.revoked'],
    template_id: a?.template_id ?? '',
    url: a?.kind === 'webhook' ? a.config.url : '',
    signing_secret: '',
    webhook_url: '',
    channel: a?.kind === 'slack_app' ? a.config.channel : '',
    recipients: a?.kind === 'email' ? a.config.recipients : 'requester',
    addresses: a?.kind === 'email' ? (a.config.addresses ?? []).join('\n') : '',
    script_id: a?.kind === 'script' ? a.config.script_id : '',
  };
}

function configOf(d: Draft, editing: boolean): Record<string, unknown> | undefined {
  switch (d.kind) {
    case 'webhook':
      return { url: d.url, ...(d.signing_secret && !editing ? { signing_secret: d.signing_secret } : {}) };
    case 'slack':
      // The Slack URL is a secret the API never returns: only a new one is sent.
      return d.webhook_url ? { webhook_url: d.webhook_url } : editing ? undefined : { webhook_url: '' };
    case 'slack_app':
      return { channel: d.channel.trim() };
    case 'email':
      return d.recipients === 'addresses' ? { recipients: d.recipients, addresses: lines(d.addresses) } : { recipients: d.recipients };
    case 'script':
      return { script_id: d.script_id };
  }
}

/** Create or change an event action: which events, which template, and the kind's config. */
export function EventActionForm({ initial, templates, busy, error, submitLabel, onSubmit }: { initial?: EventAction; templates: Template[]; busy: boolean; error: unknown; submitLabel: string; onSubmit: (b: ActionBody) => void }) {
  const [d, setD] = useState(() => draftOf(initial));
  const scripts = useAllScripts();
  const err = fieldErrorsOf(error);
  const under = fieldErrorsUnderOf(error);
  const submit = onSubmitSend(() => {
    const config = configOf(d, !!initial);
    onSubmit({ name: d.name, event_types: d.event_types, template_id: d.template_id || null, kind: d.kind, ...(config ? { config } : {}) });
  });
  return (
    <Form onSubmit={submit} noValidate className="form-grid">
      <FormError error={error} />
      <TextField label="Name" value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} error={err('name')} required />
      <SelectField label="Kind" value={d.kind} disabled={!!initial} onChange={(e) => setD({ ...d, kind: e.target.value as EventActionKind })} hint={initial ? 'The kind cannot change.' : undefined}>
        <option value="webhook">Webhook (signed POST)</option>
        <option value="slack">Slack message</option>
        <option value="slack_app">Slack app with Approve and Deny buttons</option>
        <option value="email">Email</option>
        <option value="script">Script</option>
      </SelectField>
      <Fieldset legend="On these events" error={under('event_types')}>
        <div className="check-columns">
          {EVENT_TYPES.map((t) => (
            <Checkbox key={t} label={eventLabel(t)} checked={d.event_types.includes(t)} onChange={(e) => setD({ ...d, event_types: e.target.checked ? [...d.event_types, t] : d.event_types.filter((x) => x !== t) })} />
          ))}
        </div>
      </Fieldset>
      <SelectField label="Template" value={d.template_id} onChange={(e) => setD({ ...d, template_id: e.target.value })} error={err('template_id')}>
        <option value="">Every template</option>
        {templates.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </SelectField>
      {d.kind === 'webhook' && (
        <>
          <TextField label="URL" name="url" type="url" placeholder="https://…" value={d.url} onChange={(e) => setD({ ...d, url: e.target.value })} error={err('config.url') ?? under('config')} required />
          {!initial && <TextField label="Signing secret (optional)" hint="A whsec_ secret of your own; one is generated and shown once if left empty." value={d.signing_secret} onChange={(e) => setD({ ...d, signing_secret: e.target.value })} error={err('config.signing_secret')} />}
        </>
      )}
      {d.kind === 'slack' && (
        <TextField label={initial ? 'New Slack webhook URL (leave empty to keep)' : 'Slack webhook URL'} type="url" value={d.webhook_url} onChange={(e) => setD({ ...d, webhook_url: e.target.value })} error={err('config.webhook_url') ?? under('config')} />
      )}
      {d.kind === 'slack_app' && (
        <TextField
          label="Slack channel id"
          hint="Like C0123456789: the channel's details, at the bottom of About. Invite the app to the channel; set its token under Administration → Slack."
          value={d.channel}
          onChange={(e) => setD({ ...d, channel: e.target.value })}
          error={err('config.channel') ?? under('config')}
          required
        />
      )}
      {d.kind === 'email' && (
        <>
          <SelectField label="Recipients" value={d.recipients} onChange={(e) => setD({ ...d, recipients: e.target.value as Draft['recipients'] })} error={err('config.recipients')}>
            <option value="requester">The requester</option>
            <option value="approvers">The approvers</option>
            <option value="addresses">These addresses</option>
          </SelectField>
          {d.recipients === 'addresses' && <TextArea label="Addresses" hint="One per line." rows={3} value={d.addresses} onChange={(e) => setD({ ...d, addresses: e.target.value })} error={under('config.addresses') ?? under('config')} />}
        </>
      )}
      {d.kind === 'script' && (
        <SelectField label="Script" value={d.script_id} onChange={(e) => setD({ ...d, script_id: e.target.value })} error={err('config.script_id') ?? under('config')}>
          <option value="">Choose a script…</option>
          {(scripts.data ?? []).map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </SelectField>
      )}
      <div className="form-actions">
        <SubmitButton busy={busy} busyLabel="Saving…">
          {submitLabel}
        </SubmitButton>
      </div>
    </Form>
  );
}
