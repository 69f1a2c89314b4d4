import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { del, get, patch, post, put } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { Page } from '../../api/types.ts';
import type { Group, Member } from '../../api/admin-types.ts';
import { fieldErrorsOf, Form, FormError, onSubmitSend, SubmitButton, TextArea, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';
import { Empty, PagedView, QueryView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { Link, navigate } from '../../router.tsx';
import { DeleteButton, useAddFormOpened, useAllUsers, useDeleteAndReturn } from './common.tsx';
import { Time } from '../../components/Time.tsx';
import { fromZonedInput } from '../../lib/time.ts';

function CreateGroup() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => post<Group>('/groups', { name, description }),
    onSuccess: async (g) => {
      await client.invalidateQueries({ queryKey: keys.admin('groups') });
      navigate(`/admin/groups/${g.id}`);
    },
  });
  const err = fieldErrorsOf(create.error);
  const opened = useAddFormOpened('group');
  return (
    <details className="panel disclosure" open={opened}>
      <summary>Add a group</summary>
      <Form onSubmit={onSubmitSend(() => create.mutate())} noValidate className="form-grid">
        <FormError error={create.error} />
        <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={err('name')} required />
        <TextArea label="Description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} error={err('description')} />
        <div className="form-actions">
          <SubmitButton busy={create.isPending}>Add group</SubmitButton>
        </div>
      </Form>
    </details>
  );
}

export function GroupsPage() {
  const q = useSearchQuery();
  const list = usePagedList<Group>(keys.admin('groups', 'list'), '/groups', { q: q || undefined });
  return (
    <>
      <PageHeader title="Groups" lead="Groups hold people. Mappings turn groups into claims; templates name groups as approvers and requesters." />
      <CreateGroup />
      <SearchBox label="Search groups by name or description" placeholder="part of a name or description" />
      <PagedView query={list} loading="Loading groups…" empty={<SearchEmpty q={q}><Empty title="No groups yet" /></SearchEmpty>}>
        {(groups) => (
          <ul className="stack compact">
            {groups.map((g) => (
              <li key={g.id} className="card row-card">
                <Link to={`/admin/groups/${g.id}`}>{g.name}</Link>
                <span className="muted small">{g.description}</span>
              </li>
            ))}
          </ul>
        )}
      </PagedView>
    </>
  );
}

function AddMember({ groupId }: { groupId: string }) {
  const client = useQueryClient();
  const users = useAllUsers();
  const [email, setEmail] = useState('');
  const [until, setUntil] = useState('');
  const [unknown, setUnknown] = useState(false);
  const add = useMutation({
    mutationFn: (userId: string) => put(`/groups/${groupId}/members/${userId}`, until ? { expires_at: new Date(fromZonedInput(until)).toISOString() } : {}),
    onSuccess: async () => {
      setEmail('');
      setUntil('');
      await client.invalidateQueries({ queryKey: keys.admin('groups', groupId) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const user = users.data?.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
    setUnknown(!user);
    if (user) add.mutate(user.id);
  };
  return (
    <Form onSubmit={submit} noValidate className="inline-form" aria-label="Add a member">
      <FormError error={add.error && !fieldErrorsOf(add.error)('expires_at') ? add.error : null} />
      <TextField label="Email of the person" type="email" list="member-choices" value={email} onChange={(e) => setEmail(e.target.value)} error={unknown ? 'No user has this email.' : undefined} />
      <datalist id="member-choices">
        {users.data?.map((u) => (
          <option key={u.id} value={u.email}>
            {u.name}
          </option>
        ))}
      </datalist>
      <TextField label="Until (optional)" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} error={fieldErrorsOf(add.error)('expires_at')} />
      <SubmitButton className="btn" busy={add.isPending} disabled={!email}>
        Add member
      </SubmitButton>
    </Form>
  );
}

function Members({ groupId }: { groupId: string }) {
  const client = useQueryClient();
  const members = useQuery({ queryKey: keys.admin('groups', groupId, 'members'), queryFn: () => get<Page<Member>>(`/groups/${groupId}/members`, { limit: 200 }) });
  const remove = useMutation({
    mutationFn: (userId: string) => del(`/groups/${groupId}/members/${userId}`),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.admin('groups', groupId) }),
  });
  return (
    <section className="panel">
      <h2>Members</h2>
      <AddMember groupId={groupId} />
      <QueryView query={members} loading="Loading members…" isEmpty={(m) => m.items.length === 0} empty={<p className="muted">No members yet.</p>}>
        {(m) => (
          <DataTable caption="Members" columns={['Name', 'Email', 'Until']} actions>
            {m.items.map((x) => (
              <tr key={x.user_id}>
                <td>
                  <Link to={`/admin/users/${x.user_id}`}>{x.name}</Link>
                </td>
                <td>{x.email}</td>
                <td><Time iso={x.expires_at} fallback="permanent" /></td>
                <td>
                  <button type="button" className="btn btn-small" disabled={remove.isPending} onClick={() => remove.mutate(x.user_id)}>
                    Remove<span className="visually-hidden"> {x.email}</span>
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </QueryView>
    </section>
  );
}

function EditGroup({ group }: { group: Group }) {
  const client = useQueryClient();
  const [name, setName] = useState(group.name);
  const [description, setDescription] = useState(group.description);
  const save = useMutation({
    mutationFn: () => patch<Group>(`/groups/${group.id}`, { name, description }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.admin('groups') }),
  });
  const remove = useDeleteAndReturn(`/groups/${group.id}`, 'groups', '/admin/groups');
  const err = fieldErrorsOf(save.error);
  return (
    <Form onSubmit={onSubmitSend(() => save.mutate())} noValidate className="panel form-grid">
      <FormError error={save.error ?? remove.error} />
      <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={err('name')} />
      <TextArea label="Description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} error={err('description')} />
      <div className="form-actions">
        <SubmitButton busy={save.isPending} busyLabel="Saving…">
          Save
        </SubmitButton>
        <DeleteButton what={`the group ${group.name}`} busy={remove.isPending} onDelete={() => remove.mutate()} />
      </div>
    </Form>
  );
}

export function GroupDetailPage({ id }: { id: string }) {
  const group = useQuery({ queryKey: keys.admin('groups', id), queryFn: () => get<Group>(`/groups/${id}`) });
  return (
    <>
      <PageHeader title={group.data?.name ?? 'Group'} />
      <QueryView query={group} loading="Loading the group…">
        {(g) => (
          <>
            <EditGroup key={g.updated_at} group={g} />
            <Members groupId={g.id} />
          </>
        )}
      </QueryView>
    </>
  );
}
