import { z } from 'zod';
import { instant } from '../../http/schemas.ts';
import { BREAK_GLASS_REVIEW_STATES } from './lifecycle.ts';

const personOut = z.object({ id: z.string(), email: z.string(), name: z.string() });

/** A break-glass grant's review, on the request it belongs to (null on ordinary requests). */
export const breakGlassOut = z.object({
  review_state: z.enum(BREAK_GLASS_REVIEW_STATES),
  activated_at: instant,
  review_due_at: instant,
  review_overdue: z.boolean().describe('unreviewed and past review_due_at'),
  reviewed_by: personOut.nullable(),
  reviewed_at: instant.nullable(),
  review_comment: z.string().nullable(),
});
export type BreakGlassOut = z.infer<typeof breakGlassOut>;

/** What issue 12 §4 and §5 add to every request in the API. */
export const lapseGlassRequestOut = {
  lapses_at: instant.nullable().describe("when a pending request lapses if nobody decides (the template's pending_ttl_mins); null otherwise"),
  break_glass: breakGlassOut.nullable(),
};
