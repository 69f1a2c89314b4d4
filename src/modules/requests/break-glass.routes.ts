import { requireActor } from '../../http/auth.ts';
import { pageOf, pageQuery } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { BreakGlassService } from './break-glass.ts';
import { breakGlassIn, reviewIn } from './break-glass.types.ts';
import { requestOut } from './requests.types.ts';
import type { RequestViews } from './requests.views.ts';

/** Break-glass (issue 12 §5): activation, the after-the-fact review, and the review queue. */
export function breakGlassRoutes(app: HttpApp, deps: { breakGlass: BreakGlassService; views: RequestViews }): void {
  const tags = ['access requests'];
  const base = '/api/v1/access-requests';

  app.post(
    `${base}/break-glass`,
    {
      schema: {
        tags,
        summary:
          'Break-glass: grant yourself a break-glass template’s access at once, with a justification, for at most its break_glass_max_mins. Every admin and approver is alerted; an approver must review it afterwards',
        body: breakGlassIn,
        response: { 201: requestOut },
      },
    },
    async (request, reply) => {
      const row = await deps.breakGlass.activate(requireActor(request), request.body, request.body.step_up);
      return reply.status(201).send(await deps.views.present(row));
    },
  );

  app.get(
    `${base}/break-glass/unreviewed`,
    {
      schema: {
        tags,
        summary: 'Break-glass grants nobody has reviewed yet, oldest first: every one for an admin, those of your templates for an approver',
        querystring: pageQuery,
        response: { 200: pageOf(requestOut) },
      },
    },
    async (request) => {
      const rows = await deps.breakGlass.listUnreviewed(requireActor(request), request.query);
      return deps.views.presentPage(rows, request.query.limit);
    },
  );

  app.post(
    `${base}/:id/review`,
    {
      schema: {
        tags,
        summary: 'Review a break-glass grant after the fact (an approver of its template, or an admin when no approver can; never its requester): reviewed, or revoked',
        params: idParam,
        body: reviewIn,
        response: { 200: requestOut },
      },
    },
    async (request) => deps.views.present(await deps.breakGlass.review(requireActor(request), request.params.id, request.body, request.body.step_up)),
  );
}
