import { z } from 'zod';
import { instant } from '../../http/schemas.ts';

/** Default range: the last 30 days. Longest range: a little over a year. */
export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 400;

export const insightsQuery = z.object({
  from: instant.optional().describe('start of the range (inclusive): requests submitted from then; default 30 days before `to`'),
  to: instant.optional().describe('end of the range (exclusive); default now'),
  template_id: z.uuid().optional().describe('only this template'),
});
export type InsightsQuery = z.infer<typeof insightsQuery>;

const secs = z.number().nullable();

export const summaryOut = z.object({
  requests: z.number().int(),
  approved: z.number().int(),
  denied: z.number().int(),
  approval_rate: z.number().nullable().describe('approved / (approved + denied), 0..1; null when none was decided'),
  decision_median_secs: secs.describe('from submission to a person’s final decision'),
  decision_p90_secs: secs,
  escalations: z.number().int(),
  lapsed: z.number().int(),
  grants: z.number().int().describe('requests whose access window opened'),
  never_used: z.number().int().describe('grants for which no token was issued'),
  first_use_median_secs: secs.describe('from activation to the first token'),
  used_secs: z.number().describe('granted time before the last token, summed'),
  unused_secs: z.number().describe('granted time after the last token (all of it when never used), summed'),
});

export const insightsOut = z.object({
  from: instant,
  to: instant,
  template_id: z.string().nullable(),
  rubber_stamp_secs: z.number().int().describe('an approval within this many seconds of the request becoming decidable is a rubber stamp'),
  usage_precision_secs: z.number().int().describe('a last use is recorded at most once per this many seconds per grant'),
  overall: summaryOut,
  templates: z.array(summaryOut.extend({ template_id: z.string(), template_name: z.string() })),
  grants: z.array(
    z.object({
      request_id: z.string(),
      template_id: z.string(),
      template_name: z.string(),
      requester_id: z.string(),
      requester_email: z.string().nullable(),
      activated_at: instant,
      ends_at: instant.nullable(),
      first_used_at: instant.nullable(),
      last_used_at: instant.nullable(),
      time_to_first_use_secs: secs,
      granted_secs: secs,
      used_secs: z.number(),
      used_share: z.number().nullable(),
    }),
  ),
  approvers: z.array(
    z.object({
      approver_id: z.string(),
      email: z.string().nullable(),
      name: z.string().nullable(),
      decisions: z.number().int(),
      approvals: z.number().int(),
      denials: z.number().int(),
      median_decide_secs: secs,
      approvals_without_comment: z.number().int(),
      rubber_stamps: z.number().int(),
    }),
  ),
  standing: z.array(
    z.object({
      template_id: z.string(),
      template_name: z.string(),
      claim: z.string(),
      value: z.string(),
      group_id: z.string(),
      group_name: z.string(),
      user_id: z.string(),
      user_email: z.string(),
    }),
  ),
});
export type Insights = z.infer<typeof insightsOut>;

export const CSV_SECTIONS = ['templates', 'grants', 'approvers', 'standing'] as const;
export type CsvSection = (typeof CSV_SECTIONS)[number];
