import { badRequest } from '../../http/errors.ts';
import type { TemplateSettings } from './templates.types.ts';

/** True when requests made from the template may carry a later start (`starts_at`). */
export const allowsScheduledStart = (t: Pick<TemplateSettings, 'max_start_delay_mins'>): boolean => (t.max_start_delay_mins ?? 0) > 0;

/**
 * A block-mode trigger runs before the approval commits, to provision at once; a grant
 * that starts later would be provisioned long before its window (DESIGN: extension,
 * schedule, break-glass). So the two exclude each other, with their own error code.
 */
export function assertScheduleAllowed(t: Pick<TemplateSettings, 'max_start_delay_mins' | 'trigger'>): void {
  if (allowsScheduledStart(t) && t.trigger?.failure_mode === 'block') {
    throw badRequest(
      'block_mode_schedule',
      'max_start_delay_mins: a template whose trigger task blocks approval cannot allow a scheduled start; set max_start_delay_mins to null or 0, or use failure_mode "retry" or "ignore"',
      [{ field: 'max_start_delay_mins', message: 'cannot be set with a block-mode trigger' }],
    );
  }
}
