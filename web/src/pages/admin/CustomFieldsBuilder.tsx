import type { CustomField, CustomFieldType } from '../../api/types.ts';
import { Checkbox, SelectField, TextArea, TextField } from '../../components/Field.tsx';

/** A custom field while it is edited: dropdown options as lines of text. */
export interface FieldDraft {
  key: string;
  label: string;
  type: CustomFieldType;
  required: boolean;
  options: string;
}

export const toDraft = (f: CustomField): FieldDraft => ({ key: f.key, label: f.label, type: f.type, required: f.required, options: (f.options ?? []).join('\n') });

export const fromDraft = (d: FieldDraft): CustomField => {
  const base = { key: d.key.trim(), label: d.label, type: d.type, required: d.required };
  return d.type === 'dropdown'
    ? {
        ...base,
        options: d.options
          .split('\n')
          .map((s) => s.trim())
          .filter(Boolean),
      }
    : base;
};

/** Builds the custom_fields list: add, edit, reorder and remove fields. Errors come by path (custom_fields.2.key). */
export function CustomFieldsBuilder({ fields, onChange, errorAt }: { fields: FieldDraft[]; onChange: (f: FieldDraft[]) => void; errorAt: (path: string) => string | undefined }) {
  const update = (i: number, patch: Partial<FieldDraft>) => onChange(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  const move = (i: number, by: number) => {
    const next = [...fields];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item!);
    onChange(next);
  };
  const add = () => onChange([...fields, { key: `field_${fields.length + 1}`, label: '', type: 'text', required: false, options: '' }]);
  return (
    <div className="field-builder">
      {fields.length === 0 && <p className="muted small">No custom fields: the form asks only for a duration and a justification.</p>}
      <ol className="builder-list">
        {fields.map((f, i) => (
          <li key={i} className="builder-row" aria-label={`Custom field ${i + 1}`}>
            <div className="row-3">
              <TextField label="Label" value={f.label} onChange={(e) => update(i, { label: e.target.value })} error={errorAt(`custom_fields.${i}.label`)} required />
              <TextField label="Key" value={f.key} onChange={(e) => update(i, { key: e.target.value })} error={errorAt(`custom_fields.${i}.key`)} hint="Lowercase, as stored." required />
              <SelectField label="Type" value={f.type} onChange={(e) => update(i, { type: e.target.value as CustomFieldType })} error={errorAt(`custom_fields.${i}.type`)}>
                <option value="text">Text</option>
                <option value="dropdown">Dropdown</option>
                <option value="checkbox">Checkbox</option>
              </SelectField>
            </div>
            {f.type === 'dropdown' && (
              <TextArea label="Options" hint="One per line." rows={3} value={f.options} onChange={(e) => update(i, { options: e.target.value })} error={errorAt(`custom_fields.${i}.options`)} />
            )}
            <div className="builder-actions">
              <Checkbox label="Required" checked={f.required} onChange={(e) => update(i, { required: e.target.checked })} />
              <span className="spacer" />
              <button type="button" className="btn btn-small" disabled={i === 0} onClick={() => move(i, -1)}>
                Move up<span className="visually-hidden"> field {i + 1}</span>
              </button>
              <button type="button" className="btn btn-small" disabled={i === fields.length - 1} onClick={() => move(i, 1)}>
                Move down<span className="visually-hidden"> field {i + 1}</span>
              </button>
              <button type="button" className="btn btn-small btn-danger" onClick={() => onChange(fields.filter((_, j) => j !== i))}>
                Remove<span className="visually-hidden"> field {i + 1}</span>
              </button>
            </div>
          </li>
        ))}
      </ol>
      {errorAt('custom_fields') && <p className="field-error">{errorAt('custom_fields')}</p>}
      <button type="button" className="btn" onClick={add}>
        Add a field
      </button>
    </div>
  );
}
