import { z } from 'zod';
import { instant } from '../../http/schemas.ts';
import { requestOut, stepUpField } from '../requests/requests.types.ts';

export const DECISIONS = ['approve', 'deny', 'revoke'] as const;
export type Decision = (typeof DECISIONS)[number];

export const createDecisionLinkIn = z
  .strictObject({
    request_id: z.uuid(),
    decision: z.enum(DECISIONS),
    stage: z.number().int().min(1).max(100).optional().describe("the approval stage the decision is for, as the request's current_stage numbers it (1-based); left out: the request's current stage. Not for revoke"),
    comment: z.string().trim().max(4000).optional().describe('the comment recorded with an approval or a denial'),
    reason: z.string().trim().min(1).max(4000).optional().describe('the reason recorded with a revocation (required for revoke)'),
  })
  .superRefine((body, ctx) => {
    if (body.decision === 'revoke' && body.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is required to revoke' });
    if (body.decision !== 'revoke' && body.reason !== undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is only for revoke; use comment' });
    if (body.decision === 'revoke' && body.comment !== undefined) ctx.addIssue({ code: 'custom', path: ['comment'], message: 'is not for revoke; use reason' });
    if (body.decision === 'revoke' && body.stage !== undefined) ctx.addIssue({ code: 'custom', path: ['stage'], message: 'is not for revoke' });
  });
export type CreateDecisionLinkIn = z.infer<typeof createDecisionLinkIn>;

export const decisionLinkOut = z.object({ url: z.string().describe('the decision page, /decide/<token>; one-time, for the caller only'), expires_at: instant });

export const tokenParam = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a decision link token') });

export const completeDecisionLinkIn = z.strictObject({ step_up: stepUpField });

export const decisionLinkViewOut = z.object({
  decision: z.enum(DECISIONS),
  stage: z.number().int().nullable(),
  comment: z.string().nullable().describe('the comment (approve, deny) or the reason (revoke) that will be recorded'),
  expires_at: instant,
  request: requestOut,
  step_up: z.object({
    required: z.boolean().describe("the template asks for step-up: the decision needs a fresh second-factor check"),
    has_factor: z.boolean().describe('the caller has a second factor (the check is offered even when not required)'),
    max_age_minutes: z.number().int().nullable(),
    binding: z.object({ action: z.enum(DECISIONS), target: z.string(), stage: z.number().int().nullable() }).describe('what to start the check for (POST /api/v1/step-up)'),
  }),
});
