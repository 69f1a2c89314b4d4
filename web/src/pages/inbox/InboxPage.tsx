import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { post } from '../../api/client.ts';
import { keys, usePagedList } from '../../api/queries.ts';
import type { AccessRequest, BulkItemResult, InboxItem } from '../../api/types.ts';
import { PageHeader } from '../../components/Layout.tsx';
import { Empty, flatPages, PagedView } from '../../components/Status.tsx';
import { useStepUp, withProof } from '../../components/StepUp.tsx';
import { inboxShortcut } from '../../lib/shortcuts.ts';
import { Link } from '../../router.tsx';
import { BulkBar, BulkConfirm, type Decision } from './BulkDecision.tsx';
import { bulkEligible, InboxRow, rowName, type RowOutcome } from './InboxRow.tsx';
import { ShortcutsHelp } from './ShortcutsHelp.tsx';
import { withKeptRows, type KeptRow } from './keptRows.ts';
import { PendingElsewhere } from './PendingElsewhere.tsx';

const rowElement = (id: string) => document.querySelector<HTMLElement>(`li[data-request-id="${CSS.escape(id)}"]`);

/** The outcome shown on a row, from what the single or bulk call answered. */
function outcomeOf(decision: Decision, status: AccessRequest['status'] | undefined, refusal?: string): RowOutcome {
  if (refusal !== undefined) return { tone: 'warning', message: `Not ${decision === 'approve' ? 'approved' : 'denied'}: ${refusal}` };
  if (decision === 'deny') return { tone: 'danger', message: 'Denied by you.', status };
  if (status === 'pending') return { tone: 'success', message: 'Your approval is recorded; the request waits for more approvals.', status };
  return { tone: 'success', message: status === 'provisioning' ? 'Approved by you; access is being set up.' : 'Approved by you.', status };
}

/** Pending requests the signed-in user may decide, oldest first: decided in place, one at a time or in bulk, by mouse or keyboard. */
export function InboxPage() {
  const client = useQueryClient();
  const stepUp = useStepUp();
  const list = usePagedList<InboxItem>(keys.requests('inbox'), '/access-requests/inbox');
  const [outcomes, setOutcomes] = useState<Record<string, RowOutcome>>({});
  const [comments, setComments] = useState<Record<string, string>>({});
  const [commentOpen, setCommentOpen] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [currentId, setCurrentId] = useState<string | null>(null);
  const [asking, setAsking] = useState<Decision | null>(null);
  const [asked, setAsked] = useState(0);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [bulkError, setBulkError] = useState<unknown>(null);
  const [help, setHelp] = useState(false);
  const [announcement, setAnnouncement] = useState('');

  const [kept, setKept] = useState<Record<string, KeptRow<InboxItem>>>({});
  const rows = withKeptRows(list.data ? flatPages(list.data) : [], kept);
  const eligible = rows.filter((r) => bulkEligible(r, outcomes[r.id]));
  // In list order: what the confirm step shows is what is sent, in that order.
  const chosen = eligible.filter((r) => selected.has(r.id));

  const toggle = (set: ReadonlySet<string>, id: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  };
  const refresh = () => client.invalidateQueries({ queryKey: ['requests'] });
  /** Keeps decided rows in place while the refreshed inbox drops them. */
  const keep = (decided: readonly InboxItem[]) => setKept((k) => ({ ...k, ...Object.fromEntries(decided.map((r) => [r.id, { row: r, index: rows.indexOf(r) }])) }));

  async function decide(r: InboxItem, decision: Decision) {
    if (busy.has(r.id) || outcomes[r.id] || r.status !== 'pending') return;
    const comment = (comments[r.id] ?? '').trim();
    setBusy((b) => toggle(b, r.id, true));
    keep([r]);
    let outcome: RowOutcome;
    try {
      const updated = await stepUp((proof) => post<AccessRequest>(`/access-requests/${r.id}/${decision}`, withProof(comment ? { comment } : {}, proof)));
      outcome = outcomeOf(decision, updated.status);
    } catch (error) {
      outcome = outcomeOf(decision, undefined, error instanceof Error ? error.message : 'something went wrong');
    }
    setOutcomes((o) => ({ ...o, [r.id]: outcome }));
    setSelected((s) => toggle(s, r.id, false));
    setBusy((b) => toggle(b, r.id, false));
    setAnnouncement(`${rowName(r)}: ${outcome.message}`);
    void refresh();
  }

  async function decideInBulk(decision: Decision, comment: string) {
    setBulkBusy(true);
    setBulkError(null);
    try {
      const ids = chosen.map((r) => r.id);
      keep(chosen);
      const body = { decision, request_ids: ids, ...(comment.trim() ? { comment: comment.trim() } : {}) };
      // One step-up for the list exactly as the confirm step shows it (bound to its hash on the server).
      const { results } = await stepUp((proof) => post<{ results: BulkItemResult[] }>('/access-requests/bulk-decisions', withProof(body, proof)));
      const next: Record<string, RowOutcome> = {};
      for (const item of results) next[item.request_id] = outcomeOf(decision, item.status, item.outcome === 'refused' ? (item.error?.detail ?? 'refused') : undefined);
      setOutcomes((o) => ({ ...o, ...next }));
      setSelected(new Set());
      setAsking(null);
      const done = results.filter((r) => r.outcome !== 'refused').length;
      const refused = results.length - done;
      setAnnouncement(`${done} ${decision === 'approve' ? 'approved' : 'denied'}${refused ? `, ${refused} refused (see each request)` : ''}.`);
      void refresh();
    } catch (error) {
      setBulkError(error);
    } finally {
      setBulkBusy(false);
    }
  }

  // Keyboard shortcuts: read from the one list in lib/shortcuts.ts; silent while a dialog is open.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (document.querySelector('dialog[open]')) return;
      const action = inboxShortcut({ key: event.key, ctrlKey: event.ctrlKey, metaKey: event.metaKey, altKey: event.altKey, target: event.target as HTMLElement | null });
      if (!action) return;
      event.preventDefault();
      if (action === 'help') return setHelp(true);
      const index = rows.findIndex((r) => r.id === currentId);
      if (action === 'next' || action === 'previous') {
        const to = rows[action === 'next' ? Math.min(index + 1, rows.length - 1) : Math.max(index - 1, 0)];
        if (to) rowElement(to.id)?.focus();
        return;
      }
      const current = rows[index];
      if (!current) return setAnnouncement('Choose a request first: j or the down arrow goes to the first one.');
      if (action === 'approve' || action === 'deny') {
        if (outcomes[current.id] || current.status !== 'pending') return setAnnouncement('This request is already decided.');
        return void decide(current, action);
      }
      if (action === 'comment') {
        if (outcomes[current.id] || current.status !== 'pending') return setAnnouncement('This request is already decided.');
        setCommentOpen((s) => toggle(s, current.id, true));
        // The field appears on the next render.
        requestAnimationFrame(() => document.querySelector<HTMLTextAreaElement>(`textarea[data-comment-for="${CSS.escape(current.id)}"]`)?.focus());
        return;
      }
      if (action === 'select') {
        if (!bulkEligible(current, outcomes[current.id])) return setAnnouncement("This request's template does not allow bulk decisions.");
        const on = !selected.has(current.id);
        setSelected((s) => toggle(s, current.id, on));
        setAnnouncement(`${on ? 'Selected' : 'Unselected'}: ${rowName(current)}.`);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

  const rowsView = (
    <>
      <BulkBar
        eligible={eligible.length}
        selected={chosen.length}
        onSelectAll={(all) => setSelected(all ? new Set(eligible.map((r) => r.id)) : new Set())}
        onAsk={(d) => {
          setBulkError(null);
          setAsked((n) => n + 1);
          setAsking(d);
        }}
      />
      <ul className="stack" aria-label="Requests waiting for you">
        {rows.map((r) => (
          <InboxRow
            key={r.id}
            request={r}
            state={{ current: r.id === currentId, selected: selected.has(r.id), busy: busy.has(r.id), commentOpen: commentOpen.has(r.id), comment: comments[r.id] ?? '', outcome: outcomes[r.id] }}
            on={{
              onFocusRow: () => setCurrentId(r.id),
              onSelect: (on) => setSelected((s) => toggle(s, r.id, on)),
              onDecide: (d) => void decide(r, d),
              onToggleComment: () => setCommentOpen((s) => toggle(s, r.id, !s.has(r.id))),
              onComment: (text) => setComments((c) => ({ ...c, [r.id]: text })),
              onLeaveComment: () => rowElement(r.id)?.focus(),
            }}
          />
        ))}
      </ul>
    </>
  );

  return (
    <>
      <PageHeader
        title="Inbox"
        lead="Requests waiting for your decision, oldest first. Decide here or open one to review it; press ? for keyboard shortcuts."
        actions={
          <>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setHelp(true)}>
              Keyboard shortcuts
            </button>{' '}
            <Link to="/decided">Decided by you</Link>
          </>
        }
      />
      <PendingElsewhere />
      <p className="visually-hidden" aria-live="polite" data-announcer="inbox">
        {announcement}
      </p>
      {/* Rows decided here stay even when the refreshed inbox is empty. */}
      <PagedView query={list} loading="Loading your inbox…" empty={rows.length > 0 ? rowsView : <Empty title="Nothing waiting for you">When someone asks for access you may approve, it shows up here.</Empty>}>
        {() => rowsView}
      </PagedView>
      <BulkConfirm key={asked} decision={asking} requests={chosen} busy={bulkBusy} error={bulkError} onConfirm={(comment) => asking && void decideInBulk(asking, comment)} onClose={() => setAsking(null)} />
      <ShortcutsHelp open={help} onClose={() => setHelp(false)} />
    </>
  );
}
