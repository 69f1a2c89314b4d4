import { Checkbox, TextField } from '../../components/Field.tsx';
import type { SetDraft, TemplateDraft } from './TemplateSections.tsx';

/**
 * Step-up for decisions (issue 15): approve, deny, revoke and break-glass need a fresh check of
 * the approver's second factor, made for exactly that decision within N minutes of it.
 */
export function StepUpField({ d, set, errorAt }: { d: TemplateDraft; set: SetDraft; errorAt: (path: string) => string | undefined }) {
  return (
    <>
      <Checkbox
        label="Ask approvers to confirm with their second factor"
        hint="Each approval, denial and revocation (and each break-glass use) then needs a fresh passkey or authenticator check, made for that decision only. Approvers without a second factor are asked to add one."
        checked={d.step_up_on}
        onChange={(e) => set({ step_up_on: e.target.checked })}
        error={d.step_up_on ? undefined : errorAt('step_up_minutes')}
      />
      {d.step_up_on && (
        <TextField
          label="Within (minutes)"
          type="number"
          min={1}
          max={60}
          value={d.step_up_minutes}
          onChange={(e) => set({ step_up_minutes: e.target.value })}
          hint="The longest time between the check and the decision: 1 to 60 minutes."
          error={errorAt('step_up_minutes')}
        />
      )}
    </>
  );
}

/** The draft's fields from a template (off for a new one), and back. */
export const stepUpDraftOf = (t: { step_up_minutes: number | null } | null) => ({
  step_up_on: t?.step_up_minutes != null,
  step_up_minutes: String(t?.step_up_minutes ?? 5),
});
export const stepUpBodyOf = (d: Pick<TemplateDraft, 'step_up_on' | 'step_up_minutes'>) => ({ step_up_minutes: d.step_up_on ? Number(d.step_up_minutes) : null });
