import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { del } from '../../api/client.ts';
import { fetchAll, keys } from '../../api/queries.ts';
import type { User } from '../../api/types.ts';
import type { Application, Group, Script, Template } from '../../api/admin-types.ts';
import { useGroupError } from '../../components/Field.tsx';
import { navigate, useLocation } from '../../router.tsx';

export const useAllUsers = () => useQuery({ queryKey: keys.admin('users', 'all'), queryFn: () => fetchAll<User>('/users') });
export const useAllTemplates = () => useQuery({ queryKey: keys.admin('templates', 'all'), queryFn: () => fetchAll<Template>('/access-request-templates') });
export const useAllApplications = () => useQuery({ queryKey: keys.admin('applications', 'all'), queryFn: () => fetchAll<Application>('/applications') });
export const useAllScripts = () =>
  useQuery({ queryKey: keys.admin('scripts', 'all'), queryFn: () => fetchAll<Script>('/scripts'), retry: false });

/** A secret the server shows once: copy it now. */
export function SecretOnce({ label, value, onDismiss }: { label: string; value: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret-once" role="status">
      <p>
        <strong>{label}</strong> — shown only now. Store it somewhere safe; Interim keeps only a hash.
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="secret-value">
          {value}
        </code>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

/**
 * A checklist of groups (approvers, requesters, mapping holders). With `counts`, each group
 * says how many active members it has (who could approve or be notified).
 */
export function GroupChecklist({
  groups,
  selected,
  onChange,
  label,
  error,
  counts,
}: {
  groups: Group[];
  selected: string[];
  onChange: (ids: string[]) => void;
  label: string;
  error?: string;
  counts?: boolean;
}) {
  const [filter, setFilter] = useState('');
  const id = useId();
  const legendRef = useRef<HTMLLegendElement>(null);
  const [shown, changed] = useGroupError(`${id}-group`, `${id}-error`, legendRef, error);
  const shownGroups = groups.filter((g) => g.name.toLowerCase().includes(filter.toLowerCase()));
  const toggle = (groupId: string, on: boolean) => onChange(on ? [...selected, groupId] : selected.filter((x) => x !== groupId));
  return (
    <fieldset id={`${id}-group`} tabIndex={-1} className={`fieldset checklist${shown ? ' field-invalid' : ''}`} onChange={changed} aria-describedby={shown ? `${id}-error` : undefined}>
      <legend ref={legendRef}>{label}</legend>
      {groups.length > 8 && (
        <input type="search" className="checklist-filter" placeholder="Filter groups" aria-label={`Filter ${label.toLowerCase()}`} value={filter} onChange={(e) => setFilter(e.target.value)} />
      )}
      {groups.length === 0 ? (
        <p className="muted small">No groups yet.</p>
      ) : (
        <ul>
          {shownGroups.map((g) => (
            <li key={g.id}>
              <label>
                <input type="checkbox" checked={selected.includes(g.id)} onChange={(e) => toggle(g.id, e.target.checked)} />{' '}
                <span className="checklist-name">
                  {g.name}
                  {counts && g.member_count !== undefined && (
                    <span className={`member-count${g.member_count === 0 ? ' member-count-none' : ''}`}> ({memberCountText(g.member_count)})</span>
                  )}
                </span>
              </label>
            </li>
          ))}
        </ul>
      )}
      {shown && (
        <p className="field-error" id={`${id}-error`}>
          {shown}
        </p>
      )}
    </fieldset>
  );
}

export const memberCountText = (n: number) => (n === 0 ? 'no active members' : n === 1 ? '1 active member' : `${n} active members`);

/** Deletes the record at `path`; then the admin lists of `what` are stale, and the page goes back to `listPath`. */
export function useDeleteAndReturn(path: string, what: string, listPath: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => del(path),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.admin(what) });
      navigate(listPath);
    },
  });
}

/** A delete button that asks first. */
export function DeleteButton({ what, onDelete, busy, label = 'Delete' }: { what: string; onDelete: () => void; busy?: boolean; label?: string }) {
  return (
    <button
      type="button"
      className="btn btn-danger"
      disabled={busy}
      onClick={() => {
        if (window.confirm(`Delete ${what}? This cannot be undone.`)) onDelete();
      }}
    >
      {busy ? 'Deleting…' : label}
    </button>
  );
}

/** Lines of a textarea as a list, blanks dropped. */
export const lines = (text: string) =>
  text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** Whether a link asked for this page's "Add …" form open (`?new=group`): the first-run checklist's links do. */
export const useAddFormOpened = (what: string) => useLocation().search.get('new') === what || undefined;
