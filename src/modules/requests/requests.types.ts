import { z } from 'zod';
import { instant, searchText } from '../../http/schemas.ts';
import { lapseGlassRequestOut } from './break-glass-out.types.ts';
import { REQUEST_STATUSES } from './lifecycle.ts';
import { stageProgressOut } from './stage-views.ts';
import { timelineEntryOut } from './timeline.ts';

export const fieldAnswer = z.union([z.string().max(2000), z.boolean()]);

export const submitRequestIn = z.strictObject({
  template_id: z.uuid(),
  duration_mins: z.number().int().positive(),
  justification: z.string().trim().max(4000).default(''),
  fields: z.record(z.string(), fieldAnswer).default({}),
  starts_at: instant.optional().describe('when the access should start (scheduled start); at most the template\'s max_start_delay_mins ahead. Left out: at approval'),
});
export type SubmitRequestIn = z.infer<typeof submitRequestIn>;

/** The id of a verified step-up proof for exactly this act (issue 15; POST /api/v1/step-up, then verify). */
export const stepUpField = z
  .string()
  .min(1)
  .max(64)
  .optional()
  .describe("the id of a verified step-up proof (POST /api/v1/step-up) made for exactly this decision; needed when the template asks for step-up (403 step_up_required names the binding to start)");
export const decisionIn = z.strictObject({ comment: z.string().trim().max(4000).optional(), step_up: stepUpField });
export const revokeIn = z.strictObject({ reason: z.string().trim().min(1).max(4000), step_up: stepUpField });
export const commentIn = z.strictObject({ body: z.string().trim().min(1).max(8000) });

const personOut = z.object({ id: z.string(), email: z.string(), name: z.string() });

export const grantedMappingOut = z.object({ mapping_id: z.string(), claim: z.string(), value: z.union([z.string(), z.array(z.string()), z.boolean()]) });

export const requestOut = z.object({
  id: z.uuid(),
  template_id: z.uuid(),
  template_name: z.string(),
  template_version: z.number().int(),
  app: z.object({ id: z.string(), name: z.string() }),
  requester: personOut,
  status: z.enum(['pending', 'provisioning', 'approved', 'denied', 'cancelled', 'expired', 'revoked', 'lapsed', 'extended']),
  /** `extension`: a request for more time on the grant `parent_id`; its duration is what it adds. */
  kind: z.enum(['request', 'extension']),
  parent_id: z.uuid().nullable(),
  duration_mins: z.number().int(),
  justification: z.string(),
  fields: z.record(z.string(), fieldAnswer),
  /** The label of each custom field, as the requester saw it. */
  field_labels: z.record(z.string(), z.string()),
  grants: z.array(grantedMappingOut),
  notified_approvers: z.array(personOut),
  escalated: z.boolean(),
  escalated_at: instant.nullable(),
  decided_by: personOut.nullable(),
  decided_at: instant.nullable(),
  decision_comment: z.string().nullable(),
  approved_at: instant.nullable(),
  expires_at: instant.nullable(),
  /** The start the requester asked for (scheduled start); null: at approval. */
  starts_at: instant.nullable(),
  /** When the grant's window opened (`activated`); null before. */
  activated_at: instant.nullable(),
  /** An approved grant whose window has not opened yet. */
  scheduled: z.boolean(),
  /** Whole seconds of access left, for an approved request; null otherwise. */
  seconds_left: z.number().int().nullable(),
  ended_at: instant.nullable(),
  end_reason: z.enum(['automatic', 'manual', 'reverted']).nullable(),
  ended_by: personOut.nullable(),
  revoke_reason: z.string().nullable(),
  /** Why the last blocking trigger task did not grant: its error, a timeout, or (end_reason reverted) what changed while it ran. */
  provisioning_error: z.string().nullable(),
  ...lapseGlassRequestOut,
  ...stageProgressOut,
  created_at: instant,
  updated_at: instant,
});
export type RequestOut = z.infer<typeof requestOut>;

/** An inbox row: the request, and whether its template lets approvers decide it in bulk. */
export const inboxItemOut = requestOut.extend({
  allow_bulk_decisions: z.boolean().describe('the template allows deciding this request in a bulk call (POST /api/v1/access-requests/bulk-decisions)'),
});

export const commentOut = z.object({ id: z.uuid(), author: personOut, body: z.string(), created_at: instant });

/** What an approver sees beside the request itself. */
export const requestDetailOut = requestOut.extend({
  requester_groups: z.array(z.object({ id: z.string(), name: z.string(), expires_at: instant.nullable() })),
  comments: z.array(commentOut),
  /** The request's whole story, oldest first (requests/timeline.ts): each step, who did it, why, and who was notified how. */
  timeline: z.array(timelineEntryOut),
  /** The caller may read GET /{id}/requester-access (an admin, or someone who decides or revokes this template's requests, not the requester). */
  can_see_requester_access: z.boolean(),
  can_decide: z.boolean(),
  can_revoke: z.boolean(),
  can_review: z.boolean().describe('an unreviewed break-glass grant the caller may review'),
  /** For the requester's own active grant whose template allows it: what an extension may ask for; else null. */
  extension: z
    .object({
      durations: z.array(z.number().int()),
      requires_approval: z.boolean(),
      max_total_mins: z.number().int().nullable(),
      remaining_mins: z.number().int().nullable(),
      open_extension_id: z.uuid().nullable(),
    })
    .nullable(),
  /** The requester may withdraw it: pending, or a scheduled grant before its start. */
  can_cancel: z.boolean(),
});

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional(),
  status: z.enum(REQUEST_STATUSES).optional(),
});

/** The admin list's filters (GET /access-requests/all and its CSV export). */
const adminFilterFields = z.object({
  status: z
    .string()
    .transform((v) => [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))])
    .pipe(z.array(z.enum(REQUEST_STATUSES)).min(1))
    .optional()
    .describe(`one status or several, comma-separated: ${REQUEST_STATUSES.join(', ')}`),
  requester_id: z.uuid().optional().describe('requests of this user'),
  template_id: z.uuid().optional().describe('requests made from this template'),
  approver_id: z.uuid().optional().describe('requests this user approved, denied or voted on'),
  submitted_from: instant.optional().describe('submitted at or after this instant'),
  submitted_to: instant.optional().describe('submitted at or before this instant'),
  q: searchText.optional().describe('part of the justification, the requester’s email or name, the template or application name; any case, taken as text'),
  sort: z.enum(['submitted', 'updated', 'ends']).default('submitted').describe('submitted: created_at; updated: the last change; ends: expires_at (requests without an end last)'),
  order: z.enum(['asc', 'desc']).default('desc'),
});

/** A date range that ends before it starts is a mistake worth saying, not an empty list. */
const rangeInOrder = <T extends { submitted_from?: string; submitted_to?: string }>(schema: z.ZodType<T>) =>
  schema.refine((q) => !q.submitted_from || !q.submitted_to || Date.parse(q.submitted_from) <= Date.parse(q.submitted_to), {
    path: ['submitted_from'],
    message: 'must not be after submitted_to',
  });

export const adminFilterQuery = rangeInOrder(adminFilterFields);

export const adminListQuery = rangeInOrder(
  adminFilterFields.extend({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(500).optional().describe('next_cursor of the previous page, made with the same sort and order'),
  }),
);
export type AdminFilterQuery = z.infer<typeof adminFilterFields>;
