import { z } from 'zod';
import type { FieldError } from '../../http/errors.ts';

/**
 * The template attributes of issue 12 §4 (pending requests that lapse) and §5 (break-glass):
 * their API schemas, defaults, row mapping and cross-attribute rules, kept here so the shared
 * template files only spread them in.
 */
export const MAX_PENDING_TTL_MINS = 43_200;
export const MAX_BREAK_GLASS_MINS = 1_440;
export const MAX_BREAK_GLASS_REVIEW_MINS = 10_080;

export const lapseGlassAttributes = {
  pending_ttl_mins: z
    .number()
    .int()
    .min(1)
    .max(MAX_PENDING_TTL_MINS, 'must be at most 43200 minutes (30 days)')
    .nullable()
    .describe('a request nobody decided within this many minutes ends as "lapsed"; null: it waits until decided. Must be later than every escalation (escalation_after_mins, and each stage escalation)'),
  break_glass: z.boolean().describe('requesters may grant themselves access at once (with a justification), reviewed afterwards; needs requester_group_ids'),
  break_glass_max_mins: z
    .number()
    .int()
    .min(1)
    .max(MAX_BREAK_GLASS_MINS, 'must be at most 1440 minutes (one day)')
    .nullable()
    .describe('the longest a break-glass grant lasts; required when break_glass is true'),
  break_glass_review_mins: z
    .number()
    .int()
    .min(1)
    .max(MAX_BREAK_GLASS_REVIEW_MINS, 'must be at most 10080 minutes (a week)')
    .nullable()
    .describe('an approver must review a break-glass grant within this many minutes of its activation; required when break_glass is true'),
};

export const lapseGlassDefaults = {
  pending_ttl_mins: lapseGlassAttributes.pending_ttl_mins.default(null),
  break_glass: lapseGlassAttributes.break_glass.default(false),
  break_glass_max_mins: lapseGlassAttributes.break_glass_max_mins.default(null),
  break_glass_review_mins: lapseGlassAttributes.break_glass_review_mins.default(null),
};

export const lapseGlassOut = {
  pending_ttl_mins: z.number().int().nullable(),
  break_glass: z.boolean(),
  break_glass_max_mins: z.number().int().nullable(),
  break_glass_review_mins: z.number().int().nullable(),
};

/** What the requester's form needs: whether it can lapse, and whether (and for how long) break-glass is offered. */
export const requestableLapseGlassOut = {
  pending_ttl_mins: z.number().int().nullable(),
  break_glass: z.boolean(),
  break_glass_max_mins: z.number().int().nullable(),
};

interface LapseGlassSettings {
  pending_ttl_mins: number | null;
  break_glass: boolean;
  break_glass_max_mins: number | null;
  break_glass_review_mins: number | null;
}

export function toRequestableLapseGlass(t: LapseGlassSettings) {
  return { pending_ttl_mins: t.pending_ttl_mins, break_glass: t.break_glass, break_glass_max_mins: t.break_glass ? t.break_glass_max_mins : null };
}

export function lapseGlassToRow(t: LapseGlassSettings) {
  return {
    pending_ttl_mins: t.pending_ttl_mins,
    break_glass: t.break_glass ? (1 as const) : (0 as const),
    break_glass_max_mins: t.break_glass_max_mins,
    break_glass_review_mins: t.break_glass_review_mins,
  };
}

export function lapseGlassFromRow(row: { pending_ttl_mins: number | null; break_glass: 0 | 1; break_glass_max_mins: number | null; break_glass_review_mins: number | null }): LapseGlassSettings {
  return {
    pending_ttl_mins: row.pending_ttl_mins,
    break_glass: row.break_glass === 1,
    break_glass_max_mins: row.break_glass_max_mins,
    break_glass_review_mins: row.break_glass_review_mins,
  };
}

/**
 * Rules across attributes: escalation must come before lapse (a request that lapses first
 * would never escalate); break-glass needs requester groups (or every user could grant
 * themselves access), both of its durations, and no blocking trigger (break-glass grants at
 * once; a blocking task would make it wait for an external system).
 */
export function lapseGlassErrors(
  t: LapseGlassSettings & {
    escalation_after_mins: number | null;
    stages?: readonly { escalation_after_mins: number | null }[];
    requester_group_ids: readonly string[];
    trigger: { failure_mode: string } | null;
  },
): FieldError[] {
  const errors: FieldError[] = [];
  // Every stage's escalation, not only stage 1's: a later stage escalates counted from when it
  // opens, so it can only come later still, and the lapse must leave room for each.
  const escalations = [t.escalation_after_mins, ...(t.stages ?? []).map((s) => s.escalation_after_mins)].filter((m): m is number => m !== null);
  const latest = escalations.length === 0 ? null : Math.max(...escalations);
  if (t.pending_ttl_mins !== null && latest !== null && latest >= t.pending_ttl_mins) {
    errors.push({ field: 'pending_ttl_mins', message: `must be later than every escalation (the latest after ${latest} minutes): a request escalates before it lapses` });
  }
  if (!t.break_glass) return errors;
  if (t.requester_group_ids.length === 0) errors.push({ field: 'break_glass', message: 'needs at least one requester group, or every user could grant themself access' });
  if (t.break_glass_max_mins === null) errors.push({ field: 'break_glass_max_mins', message: 'is required when break_glass is true' });
  if (t.break_glass_review_mins === null) errors.push({ field: 'break_glass_review_mins', message: 'is required when break_glass is true' });
  if (t.trigger?.failure_mode === 'block') errors.push({ field: 'break_glass', message: 'cannot be combined with a trigger task in block mode: break-glass grants at once' });
  return errors;
}
