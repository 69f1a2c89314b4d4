import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { get, patch, post } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { Page, User } from '../../api/types.ts';
import type { UserGroup } from '../../api/admin-types.ts';
import { Checkbox, fieldErrorsOf, Form, FormError, onSubmitSend, SubmitButton, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { Empty, PagedView, QueryView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { Link } from '../../router.tsx';
import { DeleteButton, useAddFormOpened, useDeleteAndReturn } from './common.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Time } from '../../components/Time.tsx';
import { formatAbsolute } from '../../lib/time.ts';
import { ResetFactors } from './SignInSecurity.tsx';

function CreateUser() {
  const client = useQueryClient();
  const [form, setForm] = useState({ email: '', name: '', password: '', is_admin: false });
  const create = useMutation({
    mutationFn: () => post<User>('/users', { ...form, password: form.password || undefined }),
    onSuccess: async () => {
      setForm({ email: '', name: '', password: '', is_admin: false });
      await client.invalidateQueries({ queryKey: keys.admin('users') });
    },
  });
  const err = fieldErrorsOf(create.error);
  const opened = useAddFormOpened('user');
  return (
    <details className="panel disclosure" open={opened}>
      <summary>Add a user</summary>
      <Form onSubmit={onSubmitSend(() => create.mutate())} noValidate className="form-grid">
        <FormError error={create.error} />
        <TextField label="Email" name="email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} error={err('email')} required />
        <TextField label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={err('name')} required />
        <TextField
          label="Initial password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters; the user must replace it at first sign-in. Without one, the user cannot sign in with a password."
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
          error={err('password')}
        />
        <Checkbox label="Administrator" checked={form.is_admin} onChange={(e) => setForm({ ...form, is_admin: e.target.checked })} />
        <div className="form-actions">
          <SubmitButton busy={create.isPending} busyLabel="Adding…">
            Add user
          </SubmitButton>
        </div>
      </Form>
    </details>
  );
}

export function UsersPage() {
  const q = useSearchQuery();
  const list = usePagedList<User>(keys.admin('users', 'list'), '/users', { q: q || undefined });
  return (
    <>
      <PageHeader title="Users" lead="People who sign in to Interim and to the applications behind it." />
      <CreateUser />
      <SearchBox label="Search users by email or name" placeholder="part of an email or name" />
      <PagedView query={list} loading="Loading users…" empty={<SearchEmpty q={q}><Empty title="No users yet" /></SearchEmpty>}>
        {(users) => (
          <DataTable caption="Users" columns={['Name', 'Email', 'Role', 'State']}>
            {users.map((u) => (
              <tr key={u.id}>
                <td>
                  <Link to={`/admin/users/${u.id}`}>{u.name}</Link>
                </td>
                <td>{u.email}</td>
                <td>{u.is_admin ? 'Administrator' : 'User'}</td>
                <td>{u.disabled ? <span className="badge badge-denied">Disabled</span> : u.must_change_password ? 'Must change password' : 'Active'}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </PagedView>
    </>
  );
}

function EditUser({ user }: { user: User }) {
  const client = useQueryClient();
  const [form, setForm] = useState({ name: user.name, email: user.email, is_admin: user.is_admin, disabled: user.disabled, password: '' });
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {};
      if (form.name !== user.name) body.name = form.name;
      if (form.email !== user.email) body.email = form.email;
      if (form.is_admin !== user.is_admin) body.is_admin = form.is_admin;
      if (form.disabled !== user.disabled) body.disabled = form.disabled;
      if (form.password) body.password = form.password;
      return patch<User>(`/users/${user.id}`, body);
    },
    onSuccess: async () => {
      setSaved(true);
      setForm((f) => ({ ...f, password: '' }));
      await client.invalidateQueries({ queryKey: keys.admin('users') });
    },
  });
  const remove = useDeleteAndReturn(`/users/${user.id}`, 'users', '/admin/users');
  const err = fieldErrorsOf(save.error);
  const submit = onSubmitSend(() => {
    setSaved(false);
    save.mutate();
  });
  return (
    <Form onSubmit={submit} noValidate className="panel form-grid">
      <h2>Profile and access</h2>
      <FormError error={save.error ?? remove.error} />
      {saved && (
        <p className="notice notice-success" role="status">
          Saved.
        </p>
      )}
      <TextField label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={err('name')} />
      <TextField label="Email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} error={err('email')} />
      <TextField
        label="Set a new password"
        type="password"
        autoComplete="new-password"
        hint="Leave empty to keep it. Setting one ends their sessions and tokens; they must replace it at their next sign-in."
        value={form.password}
        onChange={(e) => setForm({ ...form, password: e.target.value })}
        error={err('password')}
      />
      <Checkbox label="Administrator" checked={form.is_admin} onChange={(e) => setForm({ ...form, is_admin: e.target.checked })} />
      <Checkbox label="Disabled" hint="A disabled user cannot sign in; their sessions, tokens and grants end." checked={form.disabled} onChange={(e) => setForm({ ...form, disabled: e.target.checked })} />
      <div className="form-actions">
        <SubmitButton busy={save.isPending} busyLabel="Saving…">
          Save
        </SubmitButton>
        <DeleteButton what={`the user ${user.email}`} busy={remove.isPending} onDelete={() => remove.mutate()} />
      </div>
    </Form>
  );
}

export function UserDetailPage({ id }: { id: string }) {
  const user = useQuery({ queryKey: keys.admin('users', id), queryFn: () => get<User>(`/users/${id}`) });
  const groups = useQuery({ queryKey: keys.admin('users', id, 'groups'), queryFn: () => get<Page<UserGroup>>(`/users/${id}/groups`, { limit: 200 }) });
  return (
    <>
      <PageHeader title={user.data?.name ?? 'User'} lead={user.data ? `${user.data.email} · since ${formatAbsolute(user.data.created_at)}` : undefined} />
      <QueryView query={user} loading="Loading the user…">
        {(u) => <EditUser key={u.updated_at} user={u} />}
      </QueryView>
      {user.data && <ResetFactors userId={id} name={user.data.name} />}
      <QueryView query={groups} loading="Loading groups…">
        {(g) => <UserAccess memberships={g.items} />}
      </QueryView>
    </>
  );
}

/** A user's groups, and apart from them their temporary grants, each named by its template and application and linked to its request. */
function UserAccess({ memberships }: { memberships: UserGroup[] }) {
  const groups = memberships.filter((m) => !m.system);
  const grants = memberships.filter((m) => m.system);
  return (
    <>
      <section className="panel" aria-labelledby="user-groups">
        <h2 id="user-groups">Groups</h2>
        {groups.length === 0 ? (
          <p className="muted">Not in any group.</p>
        ) : (
          <ul className="plain-list">
            {groups.map((m) => (
              <li key={m.group_id}>
                <Link to={`/admin/groups/${m.group_id}`}>{m.name}</Link>
                {m.expires_at && (
                  <span className="muted small">
                    {' '}
                    until <Time iso={m.expires_at} />
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel" aria-labelledby="user-grants">
        <h2 id="user-grants">Temporary access</h2>
        {grants.length === 0 ? (
          <p className="muted">No temporary access now.</p>
        ) : (
          <ul className="plain-list">
            {grants.map((m) => (
              <li key={m.group_id}>
                {m.grant ? (
                  <>
                    <Link to={`/requests/${m.grant.request_id}`}>{m.grant.template_name}</Link>
                    <span className="muted small">
                      {' '}
                      on <Link to={`/admin/applications/${m.grant.application_id}`}>{m.grant.application_name}</Link>
                    </span>
                  </>
                ) : (
                  <span className="muted">A grant whose request is gone</span>
                )}
                {m.expires_at && (
                  <span className="muted small">
                    {' '}
                    until <Time iso={m.expires_at} />
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
