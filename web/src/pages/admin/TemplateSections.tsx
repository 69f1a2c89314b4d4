import { useState } from 'react';
import type { Application, ApprovalMode, FailureMode, Group, Mapping, NotificationPolicy, Script, TemplateSettings } from '../../api/admin-types.ts';
import { Checkbox, Fieldset, SelectField, TextField } from '../../components/Field.tsx';
import { formatClaimValue, formatDuration } from '../../lib/format.ts';
import { Link } from '../../router.tsx';
import { approverWarnings } from './approver-warnings.ts';
import { GroupChecklist, memberCountText } from './common.tsx';
import type { FieldDraft } from './CustomFieldsBuilder.tsx';
import type { LapseGlassDraft } from '../../components/LapseGlassFields.tsx';
import type { StagesDraft } from './StagesSection.tsx';

/** The template while it is edited; numbers stay text until saved so inputs can be empty. */
export interface TemplateDraft
  extends Pick<
    TemplateSettings,
    'name' | 'description' | 'enabled' | 'app_id' | 'mapping_ids' | 'allowed_durations' | 'approver_group_ids' | 'requester_group_ids' | 'require_justification' | 'auto_approve' | 'notification_policy'
  >,
    LapseGlassDraft,
    StagesDraft {
  approval: ApprovalMode;
  notification_count: string;
  escalate: boolean;
  escalation_after_mins: string;
  escalation_group_id: string;
  custom_fields: FieldDraft[];
  trigger_on: boolean;
  trigger_script_id: string;
  trigger_failure_mode: FailureMode;
  trigger_max_retries: string;
  allow_extension: boolean;
  extension_requires_approval: boolean;
  max_total_mins: string;
  schedule_on: boolean;
  max_start_delay_mins: string;
  allow_bulk_decisions: boolean;
  step_up_on: boolean;
  step_up_minutes: string;
}

export type SetDraft = (patch: Partial<TemplateDraft>) => void;
type ErrorAt = (path: string) => string | undefined;

export function GrantSection({ d, set, apps, mappings, errorAt }: { d: TemplateDraft; set: SetDraft; apps: Application[]; mappings: Mapping[]; errorAt: ErrorAt }) {
  const own = mappings.filter((m) => m.app_id === d.app_id);
  return (
    <>
      <SelectField label="Application" name="app_id" value={d.app_id} onChange={(e) => set({ app_id: e.target.value, mapping_ids: [] })} error={errorAt('app_id')} required>
        <option value="">Choose an application…</option>
        {apps.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
      </SelectField>
      <Fieldset legend="Mappings granted" hint="An approved request gives the requester these claims, until it ends." error={errorAt('mapping_ids')}>
        {!d.app_id && <p className="muted small">Choose an application first.</p>}
        {d.app_id && own.length === 0 && (
          <p className="muted small">
            This application has no mappings. <Link to={`/admin/applications/${d.app_id}`}>Add one</Link>.
          </p>
        )}
        {own.map((m) => (
          <Checkbox
            key={m.id}
            label={`${m.claim} = ${formatClaimValue(m.value)}`}
            checked={d.mapping_ids.includes(m.id)}
            onChange={(e) => set({ mapping_ids: e.target.checked ? [...d.mapping_ids, m.id] : d.mapping_ids.filter((x) => x !== m.id) })}
          />
        ))}
      </Fieldset>
    </>
  );
}

const UNITS: [string, number][] = [
  ['minutes', 1],
  ['hours', 60],
  ['days', 1440],
];

export function DurationsSection({ d, set, errorAt }: { d: TemplateDraft; set: SetDraft; errorAt: ErrorAt }) {
  const [amount, setAmount] = useState('');
  const [unit, setUnit] = useState(60);
  const add = () => {
    const mins = Math.round(Number(amount) * unit);
    if (!Number.isFinite(mins) || mins <= 0 || d.allowed_durations.includes(mins)) return;
    set({ allowed_durations: [...d.allowed_durations, mins].sort((a, b) => a - b) });
    setAmount('');
  };
  const error = errorAt('allowed_durations') ?? d.allowed_durations.map((_, i) => errorAt(`allowed_durations.${i}`)).find(Boolean);
  return (
    <Fieldset legend="Durations offered" hint="The requester picks one; access starts at approval." error={error}>
      <ul className="chips" aria-label="Durations">
        {d.allowed_durations.map((m) => (
          <li key={m} className="chip chip-removable">
            {formatDuration(m)}
            <button type="button" className="chip-remove" aria-label={`Remove ${formatDuration(m)}`} onClick={() => set({ allowed_durations: d.allowed_durations.filter((x) => x !== m) })}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="inline-form">
        <TextField label="Add a duration" type="number" min={1} value={amount} onChange={(e) => setAmount(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), add())} />
        <SelectField label="Unit" value={unit} onChange={(e) => setUnit(Number(e.target.value))}>
          {UNITS.map(([label, factor]) => (
            <option key={label} value={factor}>
              {label}
            </option>
          ))}
        </SelectField>
        <button type="button" className="btn" onClick={add}>
          Add
        </button>
      </div>
    </Fieldset>
  );
}

const APPROVALS: [ApprovalMode, string][] = [
  ['open', 'Anyone who may see the request may approve (open)'],
  ['groups', 'Members of these groups'],
];

/**
 * Who decides: chosen explicitly, since an open template lets any user approve. Each group
 * shows its active members; a chosen group without any gets a warning (nobody in it could
 * approve), as does a saved template the server found unstaffed.
 */
export function ApprovalSection({ d, set, groups, unstaffed, errorAt }: { d: TemplateDraft; set: SetDraft; groups: Group[]; unstaffed: boolean; errorAt: ErrorAt }) {
  const { emptyGroups } = approverWarnings(d, groups);
  return (
    <div className="approver-choice">
      <Fieldset legend="Who approves" hint="The requester never approves their own request." error={d.approval === 'open' ? errorAt('approver_group_ids') ?? errorAt('approval') : errorAt('approval')}>
        {APPROVALS.map(([value, label]) => (
          <label key={value} className="radio">
            <input type="radio" name="approval" value={value} checked={d.approval === value} onChange={() => set({ approval: value })} /> {label}
          </label>
        ))}
      </Fieldset>
      {d.approval === 'groups' && (
        <>
          <GroupChecklist label="Approver groups" groups={groups} selected={d.approver_group_ids} onChange={(ids) => set({ approver_group_ids: ids })} error={errorAt('approver_group_ids')} counts />
          {emptyGroups.length > 0 ? (
            <p className="notice notice-warning" role="status">
              No active user is in these approver groups: {emptyGroups.map((g) => g.name).join(', ')}. Nobody in {emptyGroups.length === 1 ? 'it' : 'them'} can approve until someone is
              added.
            </p>
          ) : (
            unstaffed && (
              <p className="notice notice-warning" role="status">
                No active user is in these approver groups, so nobody can approve a request until someone is added (or it escalates).
              </p>
            )
          )}
        </>
      )}
    </div>
  );
}

const POLICIES: [NotificationPolicy, string][] = [
  ['all', 'Everyone who may approve'],
  ['first_n', 'The first N approvers, in a stable order'],
  ['random_n', 'N approvers at random'],
  ['round_robin', 'One approver at a time, taking turns'],
];

/** The notification policy, with who it would reach and a warning when that is nobody (one-stage templates). */
export function NotifySection({ d, set, groups, errorAt }: { d: TemplateDraft; set: SetDraft; groups: Group[]; errorAt: ErrorAt }) {
  const { nobodyNotified, reach } = approverWarnings(d, groups);
  return (
    <>
      <Fieldset legend="Who is notified of a new request" error={errorAt('notification_policy')}>
        {POLICIES.map(([value, label]) => (
          <label key={value} className="radio">
            <input type="radio" name="notification_policy" value={value} checked={d.notification_policy === value} onChange={() => set({ notification_policy: value })} /> {label}
          </label>
        ))}
      </Fieldset>
      {(d.notification_policy === 'first_n' || d.notification_policy === 'random_n') && (
        <TextField label="N: how many approvers" type="number" min={1} max={100} value={d.notification_count} onChange={(e) => set({ notification_count: e.target.value })} error={errorAt('notification_count')} />
      )}
      {!d.multi && nobodyNotified && (
        <p className="notice notice-warning" role="status">
          Nobody would be notified of a new request: {nobodyNotified}. Requests would wait unseen until someone looks.
        </p>
      )}
      {!d.multi && !nobodyNotified && reach && <p className="muted small">{reach}</p>}
    </>
  );
}

export function EscalationSection({ d, set, groups, errorAt }: { d: TemplateDraft; set: SetDraft; groups: Group[]; errorAt: ErrorAt }) {
  return (
    <>
      <Checkbox label="Escalate a request nobody decides in time" checked={d.escalate} onChange={(e) => set({ escalate: e.target.checked })} />
      {d.escalate && (
        <div className="row-3">
          <TextField label="After (minutes)" type="number" min={1} max={10080} value={d.escalation_after_mins} onChange={(e) => set({ escalation_after_mins: e.target.value })} error={errorAt('escalation_after_mins')} />
          <SelectField label="To group" value={d.escalation_group_id} onChange={(e) => set({ escalation_group_id: e.target.value })} error={errorAt('escalation_group_id')}>
            <option value="">Choose a group…</option>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
                {g.member_count !== undefined ? ` (${memberCountText(g.member_count)})` : ''}
              </option>
            ))}
          </SelectField>
        </div>
      )}
    </>
  );
}

const MODES: [FailureMode, string][] = [
  ['ignore', 'Ignore: log the failure and carry on'],
  ['retry', 'Retry: run again with backoff, up to the retries below'],
  ['block', 'Block: an approval waits for the script and fails with it'],
];

export function TriggerSection({ d, set, scripts, scriptsMissing, errorAt }: { d: TemplateDraft; set: SetDraft; scripts: Script[]; scriptsMissing: boolean; errorAt: ErrorAt }) {
  if (scriptsMissing) return <p className="muted small">Scripts are not available on this server, so no trigger task can be set.</p>;
  return (
    <>
      <Checkbox label="Run a script on every lifecycle event of these requests" checked={d.trigger_on} onChange={(e) => set({ trigger_on: e.target.checked })} />
      {d.trigger_on && (
        <>
          <SelectField label="Script" value={d.trigger_script_id} onChange={(e) => set({ trigger_script_id: e.target.value })} error={errorAt('trigger.script_id') ?? errorAt('trigger')}>
            <option value="">Choose a script…</option>
            {scripts.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
          <Fieldset legend="When the script fails" error={errorAt('trigger.failure_mode')}>
            {MODES.map(([value, label]) => (
              <label key={value} className="radio">
                <input type="radio" name="failure_mode" value={value} checked={d.trigger_failure_mode === value} onChange={() => set({ trigger_failure_mode: value })} /> {label}
              </label>
            ))}
          </Fieldset>
          <TextField label="Retries" type="number" min={0} max={20} value={d.trigger_max_retries} onChange={(e) => set({ trigger_max_retries: e.target.value })} error={errorAt('trigger.max_retries')} />
        </>
      )}
    </>
  );
}
