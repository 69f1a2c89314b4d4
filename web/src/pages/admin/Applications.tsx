import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, patch, post } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { Application, AuthMethod, GrantType, SigningAlg } from '../../api/admin-types.ts';
import { Checkbox, fieldErrorsOf, fieldErrorsUnderOf, Fieldset, Form, FormError, onSubmitSend, SelectField, SubmitButton, TextArea, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Empty, PagedView, QueryView } from '../../components/Status.tsx';
import { Link, navigate } from '../../router.tsx';
import { DeleteButton, lines, SecretOnce, useAddFormOpened, useDeleteAndReturn } from './common.tsx';
import { Mappings } from './Mappings.tsx';
import { RelyingPartySetup } from './RelyingPartySetup.tsx';

const GRANT_TYPES: [GrantType, string][] = [
  ['authorization_code', 'Authorization code (sign-in)'],
  ['refresh_token', 'Refresh token'],
  ['client_credentials', 'Client credentials (machine to machine)'],
];

interface AppDraft {
  name: string;
  description: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: GrantType[];
  token_endpoint_auth_method: AuthMethod;
  id_token_signed_response_alg: SigningAlg;
  access_token_ttl_secs: string;
  id_token_ttl_secs: string;
  refresh_token_ttl_secs: string;
  first_party: boolean;
  backchannel_logout_uri: string;
  backchannel_logout_session_required: boolean;
}

const draftOf = (a?: Application): AppDraft => ({
  name: a?.name ?? '',
  description: a?.description ?? '',
  redirect_uris: (a?.redirect_uris ?? []).join('\n'),
  post_logout_redirect_uris: (a?.post_logout_redirect_uris ?? []).join('\n'),
  grant_types: a?.grant_types ?? ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: a?.token_endpoint_auth_method ?? 'client_secret_basic',
  id_token_signed_response_alg: a?.id_token_signed_response_alg ?? 'EdDSA',
  access_token_ttl_secs: String(a?.access_token_ttl_secs ?? 3600),
  id_token_ttl_secs: String(a?.id_token_ttl_secs ?? 3600),
  refresh_token_ttl_secs: String(a?.refresh_token_ttl_secs ?? 1209600),
  first_party: a?.first_party ?? false,
  backchannel_logout_uri: a?.backchannel_logout_uri ?? '',
  backchannel_logout_session_required: a?.backchannel_logout_session_required ?? false,
});

const bodyOf = (d: AppDraft) => ({
  name: d.name,
  description: d.description,
  redirect_uris: lines(d.redirect_uris),
  post_logout_redirect_uris: lines(d.post_logout_redirect_uris),
  grant_types: d.grant_types,
  token_endpoint_auth_method: d.token_endpoint_auth_method,
  id_token_signed_response_alg: d.id_token_signed_response_alg,
  access_token_ttl_secs: Number(d.access_token_ttl_secs),
  id_token_ttl_secs: Number(d.id_token_ttl_secs),
  refresh_token_ttl_secs: Number(d.refresh_token_ttl_secs),
  first_party: d.first_party,
  // An empty field removes the URI.
  backchannel_logout_uri: d.backchannel_logout_uri.trim() || null,
  backchannel_logout_session_required: d.backchannel_logout_session_required,
});

function AppForm({ initial, submitLabel, busy, error, onSubmit }: { initial?: Application; submitLabel: string; busy: boolean; error: unknown; onSubmit: (body: ReturnType<typeof bodyOf>) => void }) {
  const [d, setD] = useState(() => draftOf(initial));
  const err = fieldErrorsOf(error);
  const under = fieldErrorsUnderOf(error);
  return (
    <Form onSubmit={onSubmitSend(() => onSubmit(bodyOf(d)))} noValidate className="form-grid">
      <FormError error={error} />
      <TextField label="Name" value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} error={err('name')} required />
      <TextArea label="Description" rows={2} value={d.description} onChange={(e) => setD({ ...d, description: e.target.value })} error={err('description')} />
      <TextArea label="Redirect URIs" hint="One per line." rows={3} value={d.redirect_uris} onChange={(e) => setD({ ...d, redirect_uris: e.target.value })} error={under('redirect_uris')} />
      <TextArea label="Post-logout redirect URIs" hint="One per line." rows={2} value={d.post_logout_redirect_uris} onChange={(e) => setD({ ...d, post_logout_redirect_uris: e.target.value })} error={under('post_logout_redirect_uris')} />
      <Fieldset legend="Grant types" error={under('grant_types')}>
        {GRANT_TYPES.map(([value, label]) => (
          <Checkbox
            key={value}
            label={label}
            checked={d.grant_types.includes(value)}
            onChange={(e) => setD({ ...d, grant_types: e.target.checked ? [...d.grant_types, value] : d.grant_types.filter((g) => g !== value) })}
          />
        ))}
      </Fieldset>
      <SelectField label="Client authentication" value={d.token_endpoint_auth_method} onChange={(e) => setD({ ...d, token_endpoint_auth_method: e.target.value as AuthMethod })} error={err('token_endpoint_auth_method')}>
        <option value="client_secret_basic">Client secret (HTTP Basic)</option>
        <option value="client_secret_post">Client secret (form post)</option>
        <option value="none">None: a public client with PKCE</option>
      </SelectField>
      <SelectField label="ID token signing" value={d.id_token_signed_response_alg} onChange={(e) => setD({ ...d, id_token_signed_response_alg: e.target.value as SigningAlg })}>
        <option value="EdDSA">EdDSA</option>
        <option value="ES256">ES256</option>
        <option value="RS256">RS256</option>
      </SelectField>
      <div className="row-3">
        <TextField label="Access token lifetime (s)" type="number" min={60} value={d.access_token_ttl_secs} onChange={(e) => setD({ ...d, access_token_ttl_secs: e.target.value })} error={err('access_token_ttl_secs')} />
        <TextField label="ID token lifetime (s)" type="number" min={60} value={d.id_token_ttl_secs} onChange={(e) => setD({ ...d, id_token_ttl_secs: e.target.value })} error={err('id_token_ttl_secs')} />
        <TextField label="Refresh token lifetime (s)" type="number" min={300} value={d.refresh_token_ttl_secs} onChange={(e) => setD({ ...d, refresh_token_ttl_secs: e.target.value })} error={err('refresh_token_ttl_secs')} />
      </div>
      <Checkbox label="First party" hint="Interim's own applications: no consent screen." checked={d.first_party} onChange={(e) => setD({ ...d, first_party: e.target.checked })} />
      <TextField
        label="Back-channel logout URI"
        hint="Interim POSTs a logout token here whenever a session of this application ends (sign-out, disable, password change, deletion, revoked access). https; leave empty for none."
        value={d.backchannel_logout_uri}
        onChange={(e) => setD({ ...d, backchannel_logout_uri: e.target.value })}
        error={err('backchannel_logout_uri')}
      />
      <Checkbox
        label="Logout tokens carry the session id (sid)"
        hint="For applications that end one session, not every session of the user."
        checked={d.backchannel_logout_session_required}
        onChange={(e) => setD({ ...d, backchannel_logout_session_required: e.target.checked })}
      />
      <div className="form-actions">
        <SubmitButton busy={busy} busyLabel="Saving…">
          {submitLabel}
        </SubmitButton>
      </div>
    </Form>
  );
}

export function ApplicationsPage() {
  const client = useQueryClient();
  const q = useSearchQuery();
  const list = usePagedList<Application>(keys.admin('applications', 'list'), '/applications', { q: q || undefined });
  const opened = useAddFormOpened('application');
  const [secret, setSecret] = useState<{ id: string; value: string } | null>(null);
  const create = useMutation({
    mutationFn: (body: ReturnType<typeof bodyOf>) => post<Application>('/applications', body),
    onSuccess: async (app) => {
      if (app.client_secret) setSecret({ id: app.id, value: app.client_secret });
      else navigate(`/admin/applications/${app.id}`);
      await client.invalidateQueries({ queryKey: keys.admin('applications') });
    },
  });
  return (
    <>
      <PageHeader title="Applications" lead="OpenID Connect clients. Their mappings decide which claims a user's groups give them." />
      {secret && (
        <SecretOnce
          label="Client secret of the new application"
          value={secret.value}
          onDismiss={() => {
            navigate(`/admin/applications/${secret.id}`);
          }}
        />
      )}
      <details className="panel disclosure" open={opened}>
        <summary>Add an application</summary>
        <AppForm key={create.data?.id ?? 'new'} submitLabel="Add application" busy={create.isPending} error={create.error} onSubmit={(b) => create.mutate(b)} />
      </details>
      <SearchBox label="Search applications by name or client id" placeholder="part of a name or client id" />
      <PagedView query={list} loading="Loading applications…" empty={<SearchEmpty q={q}><Empty title="No applications yet" /></SearchEmpty>}>
        {(apps) => (
          <ul className="stack compact">
            {apps.map((a) => (
              <li key={a.id} className="card row-card">
                <Link to={`/admin/applications/${a.id}`}>{a.name}</Link>
                <code className="muted small">{a.client_id}</code>
              </li>
            ))}
          </ul>
        )}
      </PagedView>
    </>
  );
}

function ApplicationSettings({ app }: { app: Application }) {
  const client = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: ReturnType<typeof bodyOf>) => patch<Application>(`/applications/${app.id}`, body),
    onSuccess: async (a) => {
      if (a.client_secret) setSecret(a.client_secret);
      await client.invalidateQueries({ queryKey: keys.admin('applications') });
    },
  });
  const rotate = useMutation({
    mutationFn: () => post<Application>(`/applications/${app.id}/client-secret`),
    onSuccess: (a) => setSecret(a.client_secret ?? null),
  });
  const remove = useDeleteAndReturn(`/applications/${app.id}`, 'applications', '/admin/applications');
  return (
    <section className="panel">
      <h2>Settings</h2>
      <p className="small">
        Client id: <code>{app.client_id}</code>
      </p>
      {secret && <SecretOnce label="New client secret" value={secret} onDismiss={() => setSecret(null)} />}
      <AppForm key={app.updated_at} initial={app} submitLabel="Save" busy={save.isPending} error={save.error} onSubmit={(b) => save.mutate(b)} />
      <div className="form-actions separated">
        <FormError error={rotate.error ?? remove.error} />
        {app.token_endpoint_auth_method !== 'none' && (
          <button
            type="button"
            className="btn"
            disabled={rotate.isPending}
            onClick={() => {
              if (window.confirm('Rotate the client secret? The current one stops working at once.')) rotate.mutate();
            }}
          >
            {rotate.isPending ? 'Rotating…' : 'Rotate client secret'}
          </button>
        )}
        <DeleteButton what={`the application ${app.name} and its mappings`} busy={remove.isPending} onDelete={() => remove.mutate()} />
      </div>
    </section>
  );
}

export function ApplicationDetailPage({ id }: { id: string }) {
  const app = useQuery({ queryKey: keys.admin('applications', id), queryFn: () => get<Application>(`/applications/${id}`) });
  return (
    <>
      <PageHeader title={app.data?.name ?? 'Application'} />
      <QueryView query={app} loading="Loading the application…">
        {(a) => (
          <>
            <RelyingPartySetup app={a} />
            <Mappings appId={a.id} />
            <ApplicationSettings app={a} />
          </>
        )}
      </QueryView>
    </>
  );
}
