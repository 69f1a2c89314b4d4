import { Checkbox, TextField } from '../../components/Field.tsx';
import type { SetDraft, TemplateDraft } from './TemplateSections.tsx';

type ErrorAt = (path: string) => string | undefined;

/** The extension attributes (issue 12 §2): whether a grant may be extended, with or without approval, and its longest total. */
export function ExtensionSection({ d, set, errorAt }: { d: TemplateDraft; set: SetDraft; errorAt: ErrorAt }) {
  return (
    <>
      <Checkbox
        label="Let requesters extend an active grant"
        hint="By one of the durations above, with a justification, while the access stays live."
        checked={d.allow_extension}
        onChange={(e) => set({ allow_extension: e.target.checked })}
        error={errorAt('allow_extension')}
      />
      {d.allow_extension && (
        <div className="row-3">
          <Checkbox
            label="Extensions need approval"
            hint="Off only on templates that approve automatically."
            checked={d.extension_requires_approval}
            onChange={(e) => set({ extension_requires_approval: e.target.checked })}
            error={errorAt('extension_requires_approval')}
          />
          <TextField
            label="Longest total (minutes)"
            hint="From the start of the grant, extensions included. Empty: the longest duration."
            type="number"
            min={1}
            value={d.max_total_mins}
            onChange={(e) => set({ max_total_mins: e.target.value })}
            error={errorAt('max_total_mins')}
          />
        </div>
      )}
    </>
  );
}
