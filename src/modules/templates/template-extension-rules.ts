import type { FieldError } from '../../http/errors.ts';
import type { TemplateSettings } from './templates.types.ts';

type ExtensionSettings = Pick<TemplateSettings, 'allow_extension' | 'extension_requires_approval' | 'max_total_mins' | 'allowed_durations' | 'auto_approve'>;

/**
 * The extension attributes' rules (issue 12 §2): an extension without approval only on an
 * auto-approve template (anything else would let a requester grant themself more time than
 * approvers ever agreed to), and a total that leaves room for at least the longest duration.
 */
export function extensionErrors(t: ExtensionSettings): FieldError[] {
  const errors: FieldError[] = [];
  if (t.allow_extension && !t.extension_requires_approval && !t.auto_approve) {
    errors.push({ field: 'extension_requires_approval', message: 'may be false only on an auto_approve template' });
  }
  const longest = Math.max(...t.allowed_durations);
  if (t.max_total_mins !== null && t.max_total_mins < longest) {
    errors.push({ field: 'max_total_mins', message: `must be at least the longest allowed duration (${longest} minutes)` });
  }
  return errors;
}

/** max_total_mins is required whenever extensions are allowed: left out, it is the largest allowed duration. */
export function extensionDefaults(t: ExtensionSettings): Pick<TemplateSettings, 'max_total_mins'> {
  if (!t.allow_extension || t.max_total_mins !== null) return { max_total_mins: t.max_total_mins };
  return { max_total_mins: Math.max(...t.allowed_durations) };
}
