import { Checkbox } from '../../components/Field.tsx';
import type { SetDraft, TemplateDraft } from './TemplateSections.tsx';

/** Whether approvers may decide several of this template's requests at once from their inbox (issue 14 §4). */
export function BulkDecisionsField({ d, set, errorAt }: { d: TemplateDraft; set: SetDraft; errorAt: (path: string) => string | undefined }) {
  return (
    <Checkbox
      label="Let approvers decide several requests at once"
      hint="Approvers can then select this template's requests in their inbox and approve or deny them together. Each request is still checked as if decided on its own."
      checked={d.allow_bulk_decisions}
      onChange={(e) => set({ allow_bulk_decisions: e.target.checked })}
      error={errorAt('allow_bulk_decisions')}
    />
  );
}

/** The draft's field from a template (off for a new one: deciding in bulk is a choice), and back. */
export const bulkDraftOf = (t: { allow_bulk_decisions: boolean } | null) => ({ allow_bulk_decisions: t?.allow_bulk_decisions ?? false });
export const bulkBodyOf = (d: Pick<TemplateDraft, 'allow_bulk_decisions'>) => ({ allow_bulk_decisions: d.allow_bulk_decisions });
