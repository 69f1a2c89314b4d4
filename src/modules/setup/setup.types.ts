import { z } from 'zod';
import { SETUP_STEPS } from './setup-checklist.ts';

export const setupChecklistOut = z.object({
  steps: z
    .array(z.object({ key: z.enum(SETUP_STEPS), title: z.string(), done: z.boolean() }))
    .describe('in the order to take them: a group, an application, a mapping, a template, then a second user'),
  done: z.boolean().describe('every step is done'),
});
