import type { Group, Template } from '../../api/admin-types.ts';
import { Checkbox, Fieldset, SelectField, TextField } from '../../components/Field.tsx';
import { GroupChecklist } from './common.tsx';

/** One approval stage while it is edited; numbers stay text until saved. */
export interface StageDraft {
  open: boolean;
  approver_group_ids: string[];
  quorum: string;
  escalate: boolean;
  escalation_after_mins: string;
  escalation_group_id: string;
}

export interface StagesDraft {
  /** Several ordered approval stages instead of the one-stage approval and escalation fields. */
  multi: boolean;
  stages: StageDraft[];
}

type ErrorAt = (path: string) => string | undefined;

const emptyStage = (): StageDraft => ({ open: false, approver_group_ids: [], quorum: '1', escalate: false, escalation_after_mins: '30', escalation_group_id: '' });

export function stagesDraftOf(t: Template | null): StagesDraft {
  const stages = t?.stages ?? [];
  return {
    multi: stages.length > 1 || stages.some((s) => s.quorum > 1),
    stages: stages.length
      ? stages.map((s) => ({
          open: s.approval === 'open',
          approver_group_ids: s.approver_group_ids,
          quorum: String(s.quorum),
          escalate: s.escalation_after_mins !== null,
          escalation_after_mins: String(s.escalation_after_mins ?? 30),
          escalation_group_id: s.escalation_group_id ?? '',
        }))
      : [emptyStage(), emptyStage()],
  };
}

const FLAT = ['approval', 'approver_group_ids', 'escalation_after_mins', 'escalation_group_id'] as const;

/** The body with `stages` instead of the flat approval attributes when several stages are edited (the API refuses both at once). */
export function withStages<B extends Record<string, unknown>>(d: StagesDraft, body: B): Record<string, unknown> {
  if (!d.multi) return body;
  const rest: Record<string, unknown> = { ...body };
  for (const key of FLAT) delete rest[key];
  rest.stages = d.stages.map((s) => ({
    approval: s.open ? 'open' : 'groups',
    approver_group_ids: s.open ? [] : s.approver_group_ids,
    quorum: Number(s.quorum),
    escalation_after_mins: s.escalate ? Number(s.escalation_after_mins) : null,
    escalation_group_id: s.escalate ? s.escalation_group_id || null : null,
  }));
  return rest;
}

/** Ordered approval stages: each with its approvers (or open), its quorum and its own escalation. */
export function StagesSection({ d, set, groups, errorAt }: { d: StagesDraft; set: (p: Partial<StagesDraft>) => void; groups: Group[]; errorAt: ErrorAt }) {
  const update = (i: number, p: Partial<StageDraft>) => set({ stages: d.stages.map((s, j) => (j === i ? { ...s, ...p } : s)) });
  return (
    <>
      <Checkbox
        label="Approval in stages, or more than one approval"
        hint="Each stage needs its quorum of distinct approvals before the next one is asked; one person counts once per request."
        checked={d.multi}
        onChange={(e) => set({ multi: e.target.checked })}
        error={errorAt('stages')}
      />
      {d.multi && (
        <ol className="stage-list" aria-label="Approval stages">
          {d.stages.map((s, i) => (
            <li key={i} className="panel stage-draft">
              <Fieldset legend={`Stage ${i + 1}`} error={errorAt(`stages.${i}.approver_group_ids`)}>
                <Checkbox label="Open: anyone but the requester approves" checked={s.open} onChange={(e) => update(i, { open: e.target.checked })} />
                {!s.open && (
                  <GroupChecklist label={`Stage ${i + 1} approver groups`} groups={groups} selected={s.approver_group_ids} onChange={(ids) => update(i, { approver_group_ids: ids })} counts />
                )}
                <TextField label={`Stage ${i + 1} approvals needed`} type="number" min={1} max={50} value={s.quorum} onChange={(e) => update(i, { quorum: e.target.value })} error={errorAt(`stages.${i}.quorum`)} />
                <Checkbox label={`Escalate stage ${i + 1} when nobody decides in time`} checked={s.escalate} onChange={(e) => update(i, { escalate: e.target.checked })} />
                {s.escalate && (
                  <div className="row-3">
                    <TextField
                      label={`Stage ${i + 1} escalates after (minutes)`}
                      type="number"
                      min={1}
                      max={10080}
                      value={s.escalation_after_mins}
                      onChange={(e) => update(i, { escalation_after_mins: e.target.value })}
                      error={errorAt(`stages.${i}.escalation_after_mins`)}
                    />
                    <SelectField label={`Stage ${i + 1} escalates to`} value={s.escalation_group_id} onChange={(e) => update(i, { escalation_group_id: e.target.value })} error={errorAt(`stages.${i}.escalation_group_id`)}>
                      <option value="">Choose a group…</option>
                      {groups.map((g) => (
                        <option key={g.id} value={g.id}>
                          {g.name}
                        </option>
                      ))}
                    </SelectField>
                  </div>
                )}
              </Fieldset>
              {d.stages.length > 1 && (
                <button type="button" className="btn btn-ghost" onClick={() => set({ stages: d.stages.filter((_, j) => j !== i) })}>
                  Remove stage {i + 1}
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      {d.multi && d.stages.length < 10 && (
        <button type="button" className="btn" onClick={() => set({ stages: [...d.stages, emptyStage()] })}>
          Add a stage
        </button>
      )}
    </>
  );
}
