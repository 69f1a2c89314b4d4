import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, patch, post } from '../api/client.ts';
import { ConfirmDeleteButton } from '../components/ConfirmDeleteButton.tsx';
import { usePagedList } from '../api/queries.ts';
import type { ApiToken, ApiTokenPolicy, CreatedApiToken } from '../api/types.ts';
import { Checkbox, fieldErrorsOf, Form, FormError, onSubmitSend, SelectField, SubmitButton, TextField } from '../components/Field.tsx';
import { PageHeader } from '../components/Layout.tsx';
import { Empty, PagedView, QueryView } from '../components/Status.tsx';
import { DataTable } from '../components/Table.tsx';
import { useSession } from '../session.tsx';
import { SecretOnce } from './admin/common.tsx';
import { Time } from '../components/Time.tsx';

const TOKENS_KEY = ['api-tokens'] as const;
const POLICY_KEY = ['api-tokens', 'policy'] as const;
const LIFETIMES = [7, 30, 90, 180, 365];
const DAY_MS = 86_400_000;

const usePolicy = () => useQuery({ queryKey: POLICY_KEY, queryFn: () => get<ApiTokenPolicy>('/settings/api-tokens') });

/** The lifetimes this user may choose: up to their limit, or also "never" without one. */
function lifetimeChoices(limit: number | null): { value: string; label: string }[] {
  const days = LIFETIMES.filter((d) => limit === null || d <= limit);
  if (limit !== null && !days.includes(limit)) days.push(limit);
  const choices = days.map((d) => ({ value: String(d), label: `${d} days` }));
  return limit === null ? [...choices, { value: 'never', label: 'Never expires' }] : choices;
}

function CreateToken({ limit }: { limit: number | null }) {
  const client = useQueryClient();
  const choices = lifetimeChoices(limit);
  const [name, setName] = useState('');
  const [lifetime, setLifetime] = useState(choices.find((c) => c.value === '30')?.value ?? choices[0]!.value);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const create = useMutation({
    mutationFn: () =>
      post<CreatedApiToken>('/api-tokens', { name, expires_at: lifetime === 'never' ? null : new Date(Date.now() + Number(lifetime) * DAY_MS).toISOString() }),
    onSuccess: async (token) => {
      setCreated(token);
      setName('');
      await client.invalidateQueries({ queryKey: TOKENS_KEY });
    },
  });
  const err = fieldErrorsOf(create.error);
  return (
    <section className="panel">
      <h2>New token</h2>
      {created && <SecretOnce label={`Token “${created.name}”`} value={created.token} onDismiss={() => setCreated(null)} />}
      <Form onSubmit={onSubmitSend(() => create.mutate())} noValidate className="form-grid">
        <FormError error={create.error} />
        <TextField label="Name" hint="What uses it, e.g. “terraform on my laptop”." value={name} onChange={(e) => setName(e.target.value)} error={err('name')} required />
        <SelectField
          label="Expires after"
          hint={limit === null ? undefined : `Tokens of your account may live at most ${limit} days.`}
          value={lifetime}
          onChange={(e) => setLifetime(e.target.value)}
          error={err('expires_at')}
        >
          {choices.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </SelectField>
        <div className="form-actions">
          <SubmitButton busy={create.isPending} busyLabel="Creating…">
            Create token
          </SubmitButton>
        </div>
      </Form>
    </section>
  );
}

/** Admins only: the longest lifetimes, for users and for admins. Empty means no limit. */
function PolicySettings({ policy }: { policy: ApiTokenPolicy }) {
  const client = useQueryClient();
  const text = (v: number | null) => (v === null ? '' : String(v));
  const [form, setForm] = useState({ max: text(policy.max_lifetime_days), admin: text(policy.admin_max_lifetime_days) });
  const [saved, setSaved] = useState(false);
  const days = (v: string) => (v.trim() === '' ? null : Number(v));
  const save = useMutation({
    mutationFn: () => patch<ApiTokenPolicy>('/settings/api-tokens', { max_lifetime_days: days(form.max), admin_max_lifetime_days: days(form.admin) }),
    onSuccess: async () => {
      setSaved(true);
      await client.invalidateQueries({ queryKey: POLICY_KEY });
    },
  });
  const err = fieldErrorsOf(save.error);
  return (
    <details className="panel disclosure">
      <summary>Lifetime limits (administrators)</summary>
      <Form
        onSubmit={onSubmitSend(() => {
          setSaved(false);
          save.mutate();
        })}
        noValidate
        className="form-grid"
      >
        <FormError error={save.error} />
        {saved && (
          <p className="notice notice-success" role="status">
            Saved. Existing tokens keep their expiry.
          </p>
        )}
        <TextField label="Longest lifetime for users (days)" hint="Empty: no limit." inputMode="numeric" value={form.max} onChange={(e) => setForm({ ...form, max: e.target.value })} error={err('max_lifetime_days')} />
        <TextField label="Longest lifetime for administrators (days)" hint="Empty: no limit." inputMode="numeric" value={form.admin} onChange={(e) => setForm({ ...form, admin: e.target.value })} error={err('admin_max_lifetime_days')} />
        <div className="form-actions">
          <SubmitButton busy={save.isPending} busyLabel="Saving…">
            Save limits
          </SubmitButton>
        </div>
      </Form>
    </details>
  );
}

/** Your API tokens: create, list and revoke them. Administrators also see everyone's. */
export function ApiTokensPage() {
  const { user } = useSession();
  const [everyone, setEveryone] = useState(false);
  const policy = usePolicy();
  const list = usePagedList<ApiToken>([...TOKENS_KEY, 'list'], '/api-tokens', { all: everyone ? 'true' : undefined });
  const columns = everyone ? ['Name', 'Owner', 'Created', 'Expires', 'Last used'] : ['Name', 'Created', 'Expires', 'Last used'];
  return (
    <>
      <PageHeader
        title="API tokens"
        lead="Tokens let scripts and Terraform call the Interim API as you. They end when you revoke them, when your password changes and when your account is disabled."
      />
      <QueryView query={policy} loading="Loading…">
        {(p) => (
          <>
            <CreateToken limit={user.is_admin ? p.admin_max_lifetime_days : p.max_lifetime_days} />
            {user.is_admin && <PolicySettings key={JSON.stringify(p)} policy={p} />}
          </>
        )}
      </QueryView>
      {user.is_admin && (
        <div className="filters">
          <Checkbox label="Show everyone’s tokens" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} />
        </div>
      )}
      <PagedView query={list} loading="Loading tokens…" empty={<Empty title={everyone ? 'Nobody has a token' : 'You have no API tokens'} />}>
        {(tokens) => (
          <DataTable caption={everyone ? 'Everyone’s API tokens' : 'Your API tokens'} columns={columns} actions>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                {everyone && <td>{t.user_email}</td>}
                <td><Time iso={t.created_at} /></td>
                <td><Time iso={t.expires_at} fallback="Never" /></td>
                <td><Time iso={t.last_used_at} fallback="Not yet" /></td>
                <td>
                  <ConfirmDeleteButton
                    path={`/api-tokens/${t.id}`}
                    queryKey={TOKENS_KEY}
                    confirm={`Revoke the token “${t.name}”? Whatever uses it stops working at once.`}
                    label="Revoke"
                    busyLabel="Revoking…"
                    ariaLabel={`Revoke ${t.name}`}
                  />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}
