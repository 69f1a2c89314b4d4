import { Checkbox, TextField } from './Field.tsx';

/** The template editor's part for issue 12 §4 (pending requests lapse) and §5 (break-glass); numbers stay text until saved. */
export interface LapseGlassDraft {
  lapse_on: boolean;
  pending_ttl_mins: string;
  break_glass: boolean;
  break_glass_max_mins: string;
  break_glass_review_mins: string;
}

interface LapseGlassSettings {
  pending_ttl_mins: number | null;
  break_glass: boolean;
  break_glass_max_mins: number | null;
  break_glass_review_mins: number | null;
}

export function lapseGlassDraftOf(t: LapseGlassSettings | null): LapseGlassDraft {
  return {
    lapse_on: t?.pending_ttl_mins != null,
    pending_ttl_mins: String(t?.pending_ttl_mins ?? 1440),
    break_glass: t?.break_glass ?? false,
    break_glass_max_mins: String(t?.break_glass_max_mins ?? 60),
    break_glass_review_mins: String(t?.break_glass_review_mins ?? 1440),
  };
}

export function lapseGlassBodyOf(d: LapseGlassDraft): LapseGlassSettings {
  return {
    pending_ttl_mins: d.lapse_on ? Number(d.pending_ttl_mins) : null,
    break_glass: d.break_glass,
    break_glass_max_mins: d.break_glass ? Number(d.break_glass_max_mins) : null,
    break_glass_review_mins: d.break_glass ? Number(d.break_glass_review_mins) : null,
  };
}

export function LapseGlassFields({ d, set, errorAt }: { d: LapseGlassDraft; set: (patch: Partial<LapseGlassDraft>) => void; errorAt: (path: string) => string | undefined }) {
  return (
    <>
      <Checkbox
        label="Let a request nobody decides lapse"
        hint="It ends as “lapsed”, the requester is told and may ask again. Must be later than the escalation."
        checked={d.lapse_on}
        onChange={(e) => set({ lapse_on: e.target.checked })}
      />
      {d.lapse_on && (
        <TextField
          label="Lapse after (minutes)"
          type="number"
          min={1}
          max={43200}
          value={d.pending_ttl_mins}
          onChange={(e) => set({ pending_ttl_mins: e.target.value })}
          error={errorAt('pending_ttl_mins')}
        />
      )}
      <Checkbox
        label="Offer break-glass"
        hint="Requesters may grant themselves this access at once in an emergency, with a justification. Every admin and approver is alerted, and an approver reviews it afterwards. Needs requester groups."
        checked={d.break_glass}
        onChange={(e) => set({ break_glass: e.target.checked })}
        error={errorAt('break_glass')}
      />
      {d.break_glass && (
        <div className="row-3">
          <TextField
            label="Break-glass lasts at most (minutes)"
            type="number"
            min={1}
            max={1440}
            value={d.break_glass_max_mins}
            onChange={(e) => set({ break_glass_max_mins: e.target.value })}
            error={errorAt('break_glass_max_mins')}
          />
          <TextField
            label="Review within (minutes)"
            type="number"
            min={1}
            max={10080}
            value={d.break_glass_review_mins}
            onChange={(e) => set({ break_glass_review_mins: e.target.value })}
            error={errorAt('break_glass_review_mins')}
          />
        </div>
      )}
    </>
  );
}
