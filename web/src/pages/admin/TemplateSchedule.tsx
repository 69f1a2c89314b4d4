import { Checkbox, TextField } from '../../components/Field.tsx';
import { formatDuration } from '../../lib/format.ts';
import type { SetDraft, TemplateDraft } from './TemplateSections.tsx';

/** The template's scheduled start: whether a requester may ask for a later start, and how far ahead. */
export function ScheduleSection({ d, set, errorAt }: { d: TemplateDraft; set: SetDraft; errorAt: (path: string) => string | undefined }) {
  const mins = Number(d.max_start_delay_mins);
  return (
    <>
      <Checkbox
        label="Let requesters schedule a later start"
        hint="Approvers decide in advance; nothing is granted before the start, and the duration counts from it. Not with a trigger task that blocks approval."
        checked={d.schedule_on}
        onChange={(e) => set({ schedule_on: e.target.checked })}
        error={d.schedule_on ? undefined : errorAt('max_start_delay_mins')}
      />
      {d.schedule_on && (
        <TextField
          label="At most (minutes ahead)"
          type="number"
          min={1}
          max={43200}
          value={d.max_start_delay_mins}
          onChange={(e) => set({ max_start_delay_mins: e.target.value })}
          hint={Number.isInteger(mins) && mins > 0 ? `${formatDuration(mins)} ahead; at most 30 days.` : 'At most 43200 (30 days).'}
          error={errorAt('max_start_delay_mins')}
        />
      )}
    </>
  );
}

/** The draft's fields from a template, and back. */
export const scheduleDraftOf = (t: { max_start_delay_mins: number | null } | null) => ({
  schedule_on: (t?.max_start_delay_mins ?? 0) > 0,
  max_start_delay_mins: String(t?.max_start_delay_mins || 20160),
});
export const scheduleBodyOf = (d: Pick<TemplateDraft, 'schedule_on' | 'max_start_delay_mins'>) => ({ max_start_delay_mins: d.schedule_on ? Number(d.max_start_delay_mins) : null });
