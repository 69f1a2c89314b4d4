import { requireActor } from '../../http/auth.ts';
import type { HttpApp } from '../../http/types.ts';
import { insightsCsv } from './csv.ts';
import type { InsightsService } from './insights.service.ts';
import { CSV_SECTIONS, insightsOut, insightsQuery } from './insights.types.ts';

const tags = ['insights'];

export function insightsRoutes(app: HttpApp, deps: { insights: InsightsService }): void {
  app.get(
    '/api/v1/insights',
    {
      schema: {
        tags,
        summary: 'How access is really used over a date range: per template, grant and approver, and standing access (admin)',
        querystring: insightsQuery,
        response: { 200: insightsOut },
      },
    },
    async (request) => deps.insights.compute(requireActor(request), request.query),
  );

  for (const section of CSV_SECTIONS) {
    app.get(
      `/api/v1/insights/${section}.csv`,
      { schema: { tags, summary: `The insights' ${section} figures as CSV (admin)`, querystring: insightsQuery } },
      async (request, reply) => {
        const csv = insightsCsv(section, await deps.insights.compute(requireActor(request), request.query));
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="interim-insights-${section}.csv"`).send(csv);
      },
    );
  }
}
