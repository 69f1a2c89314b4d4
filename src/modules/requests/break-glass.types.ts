import { z } from 'zod';
import { fieldAnswer, stepUpField } from './requests.types.ts';
import { BREAK_GLASS_REVIEW_OUTCOMES } from './lifecycle.ts';

export const breakGlassIn = z.strictObject({
  template_id: z.uuid(),
  justification: z.string().trim().min(1, 'is required: say why you need access without approval').max(4000),
  duration_mins: z.number().int().positive().optional().describe("at most the template's break_glass_max_mins, which is the default"),
  fields: z.record(z.string(), fieldAnswer).default({}),
  step_up: stepUpField.describe("the id of a verified step-up proof for action break_glass on this template; needed when you have a second factor or the template asks for step-up"),
});
export type BreakGlassIn = z.infer<typeof breakGlassIn>;

export const reviewIn = z.strictObject({
  outcome: z.enum(BREAK_GLASS_REVIEW_OUTCOMES).describe('"reviewed": the use was justified; "revoked": it was not, and a live grant ends now'),
  comment: z.string().trim().min(1, 'is required: say what you checked').max(4000),
  step_up: stepUpField.describe('for outcome revoked on a template with step_up_minutes: a verified step-up proof for action revoke on this request'),
});
export type ReviewIn = z.infer<typeof reviewIn>;

