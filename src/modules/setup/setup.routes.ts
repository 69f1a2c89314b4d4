import { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import type { HttpApp } from '../../http/types.ts';
import type { SetupService } from './setup.service.ts';
import { setupChecklistOut } from './setup.types.ts';

/** The first-admin checklist the portal's home page shows until every step is done. */
export function setupRoutes(app: HttpApp, deps: { setup: SetupService }): void {
  app.get(
    '/api/v1/setup-checklist',
    { schema: { tags: ['setup'], summary: 'What a new installation still needs: a group, an application, a mapping, a template, a second user (admin)', querystring: z.strictObject({}), response: { 200: setupChecklistOut } } },
    async (request) => deps.setup.checklist(requireActor(request)),
  );
}
