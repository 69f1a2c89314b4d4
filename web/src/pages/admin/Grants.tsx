import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { post } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { AccessRequest } from '../../api/types.ts';
import { fieldErrorsOf, FormError, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/Layout.tsx';
import { Countdown, PersonLines, RequestLines } from '../../components/RequestBits.tsx';
import { ScheduledNote } from '../../components/StartTimeField.tsx';
import { useStepUp, withProof } from '../../components/StepUp.tsx';
import { Empty, PagedView } from '../../components/Status.tsx';
import { DataTable } from '../../components/Table.tsx';
import { flatPages } from '../../components/Status.tsx';
import { BulkRevokeBar } from './GrantsBulkRevoke.tsx';
import { SearchBox, SearchEmpty, useSearchQuery } from '../../components/SearchBox.tsx';

function Revoke({ request }: { request: AccessRequest }) {
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const stepUp = useStepUp();
  const revoke = useMutation({
    mutationFn: () => stepUp((proof) => post(`/access-requests/${request.id}/revoke`, withProof({ reason }, proof))),
    onSuccess: () => client.invalidateQueries({ queryKey: ['requests'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    revoke.mutate();
  };
  if (!open) {
    return (
      <button type="button" className="btn btn-small btn-danger" onClick={() => setOpen(true)}>
        Revoke<span className="visually-hidden"> access of {request.requester.email}</span>
      </button>
    );
  }
  return (
    <form onSubmit={submit} noValidate className="inline-form compact">
      <FormError error={revoke.error && !fieldErrorsOf(revoke.error)('reason') ? revoke.error : null} />
      <TextField label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} error={fieldErrorsOf(revoke.error)('reason')} autoFocus />
      <button type="submit" className="btn btn-small btn-danger" disabled={revoke.isPending}>
        Revoke now
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setOpen(false)}>
        Keep
      </button>
    </form>
  );
}

/** Every active grant, with time left and revoke. */
export function GrantsPage() {
  const q = useSearchQuery();
  const list = usePagedList<AccessRequest>(keys.requests('all', 'approved', q), '/access-requests/all', { status: 'approved', q: q || undefined });
  const client = useQueryClient();
  // Bulk revoke: the ids chosen, kept to the grants still listed (a revoked or expired one drops out).
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const shown = list.data ? flatPages(list.data) : [];
  const selected = shown.filter((r) => picked.has(r.id));
  const pick = (id: string, on: boolean) =>
    setPicked((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  return (
    <>
      <PageHeader title="Active grants" lead="Temporary access that is live now. Each ends on its own; revoke ends it at once." />
      <SearchBox label="Search grants" placeholder="Person, template, application or reason" />
      {list.data && (
        <BulkRevokeBar
          selected={selected}
          total={shown.length}
          onSelectAll={(all) => setPicked(all ? new Set(shown.map((r) => r.id)) : new Set())}
          onDone={(revoked) => {
            setPicked((s) => new Set([...s].filter((id) => !revoked.includes(id))));
            void client.invalidateQueries({ queryKey: ['requests'] });
          }}
        />
      )}
      <PagedView query={list} loading="Loading active grants…" empty={<SearchEmpty q={q}><Empty title="No active grants" /></SearchEmpty>}>
        {(grants) => (
          <>
            <DataTable caption="Active grants" columns={['Select', 'Who', 'What', 'Time left']} actions>
              {grants.map((r) => (
                <tr key={r.id} className={picked.has(r.id) ? 'is-selected' : undefined}>
                  <td>
                    <input type="checkbox" aria-label={`Select the grant of ${r.requester.name || r.requester.email} for ${r.template_name}`} checked={picked.has(r.id)} onChange={(e) => pick(r.id, e.target.checked)} />
                  </td>
                  <td>
                    <PersonLines person={r.requester} />
                  </td>
                  <td>
                    <RequestLines request={r} />
                  </td>
                  <td>
                    {r.scheduled ? <ScheduledNote startsAt={r.starts_at} expiresAt={r.expires_at} /> : r.seconds_left !== null && <Countdown secondsLeft={r.seconds_left} receivedAt={list.dataUpdatedAt} expiresAt={r.expires_at} />}
                  </td>
                  <td>
                    <Revoke request={r} />
                  </td>
                </tr>
              ))}
            </DataTable>
          </>
        )}
      </PagedView>
    </>
  );
}
