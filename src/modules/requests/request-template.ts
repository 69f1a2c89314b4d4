import type { Executor } from '../../db/database.ts';
import type { AccessRequestTemplatesTable } from '../../db/schema.ts';
import type { CustomFieldDefinition } from '../templates/custom-fields.ts';
import type { ApprovalPolicy } from './eligibility.ts';

/** A template as the request engine needs it: lists parsed, booleans as booleans. */
export interface RequestTemplate extends ApprovalPolicy {
  id: string;
  name: string;
  enabled: boolean;
  appId: string;
  mappingIds: string[];
  allowedDurations: number[];
  requesterGroupIds: string[];
  requireJustification: boolean;
  autoApprove: boolean;
  customFields: CustomFieldDefinition[];
  escalationAfterMins: number | null;
  notificationPolicy: AccessRequestTemplatesTable['notification_policy'];
  notificationCount: number;
  version: number;
}

/** Loads a template with its groups and mappings; a deleted one only when asked for. */
export async function loadRequestTemplate(db: Executor, id: string, opts: { includeDeleted?: boolean } = {}): Promise<RequestTemplate | undefined> {
  let query = db.selectFrom('access_request_templates').selectAll().where('id', '=', id);
  if (!opts.includeDeleted) query = query.where('deleted_at', 'is', null);
  const t = await query.executeTakeFirst();
  if (!t) return undefined;
  const [groups, mappings] = await Promise.all([
    db.selectFrom('template_groups').select(['group_id', 'role']).where('template_id', '=', id).orderBy('group_id').execute(),
    db.selectFrom('template_mappings').select('mapping_id').where('template_id', '=', id).orderBy('mapping_id').execute(),
  ]);
  return {
    id: t.id,
    name: t.name,
    enabled: t.enabled === 1,
    appId: t.app_id,
    mappingIds: mappings.map((m) => m.mapping_id),
    allowedDurations: JSON.parse(t.allowed_durations) as number[],
    approverGroupIds: groups.filter((g) => g.role === 'approver').map((g) => g.group_id),
    requesterGroupIds: groups.filter((g) => g.role === 'requester').map((g) => g.group_id),
    escalationGroupId: t.escalation_group_id,
    requireJustification: t.require_justification === 1,
    autoApprove: t.auto_approve === 1,
    customFields: JSON.parse(t.custom_fields) as CustomFieldDefinition[],
    escalationAfterMins: t.escalation_after_mins,
    notificationPolicy: t.notification_policy,
    notificationCount: t.notification_count,
    version: t.version,
  };
}
