import type { FieldError } from '../../http/errors.ts';
import type { ApprovalMode, TemplateSettings } from './templates.types.ts';
import { lapseGlassErrors } from './lapse-glass.types.ts';

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
  errors.push(...lapseGlassErrors(t));
  return errors;
}

/**
 * Who approves must be chosen, not fallen into: an empty approver list is an open
 * template only when `approval: "open"` says so (or the template already was open and
 * the change leaves that alone). Naming approver groups implies `groups`.
 */
export function approvalErrors(chosen: ApprovalMode | undefined, approverGroupIds: readonly string[], before?: ApprovalMode): FieldError[] {
  const mode = chosen ?? (approverGroupIds.length > 0 ? 'groups' : before);
  if (mode === undefined) {
    return [{ field: 'approver_group_ids', message: 'must name at least one approver group; to let any user but the requester approve, set approval to "open"' }];
  }
  if (mode === 'groups' && approverGroupIds.length === 0) return [{ field: 'approver_group_ids', message: 'must name at least one approver group when approval is "groups"' }];
  if (mode === 'open' && approverGroupIds.length > 0) return [{ field: 'approver_group_ids', message: 'must be empty when approval is "open"' }];
  return [];
}
