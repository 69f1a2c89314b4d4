import type { FieldError } from '../../http/errors.ts';
import type { TemplateSettings } from './templates.types.ts';

/**
 * Rules that span attributes. They run on the whole template after a create or a
 * PATCH has been merged, so a partial update cannot leave an inconsistent result.
 * Rules about one attribute live in its zod schema; rules about other rows
 * (applications, mappings, groups) are checked by the service against the database.
 */
export function crossAttributeErrors(t: TemplateSettings): FieldError[] {
  const errors: FieldError[] = [];
  if (t.auto_approve && t.requester_group_ids.length === 0) {
    errors.push({ field: 'auto_approve', message: 'needs at least one requester group, or every user could grant themself access' });
  }
  if (t.escalation_after_mins !== null && t.escalation_group_id === null) {
    errors.push({ field: 'escalation_group_id', message: 'is required when escalation_after_mins is set' });
  }
  if (t.escalation_group_id !== null && t.escalation_after_mins === null) {
    errors.push({ field: 'escalation_after_mins', message: 'is required when escalation_group_id is set' });
  }
  return errors;
}
