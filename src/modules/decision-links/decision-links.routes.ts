import type { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import type { Actor } from '../../http/actor.ts';
import { AppError } from '../../http/errors.ts';
import { toIso } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { requestOut } from '../requests/requests.types.ts';
import type { RequestRow } from '../requests/requests.repo.ts';
import type { DecisionLinks } from './decision-links.service.ts';
import { completeDecisionLinkIn, createDecisionLinkIn, decisionLinkOut, decisionLinkViewOut, tokenParam } from './decision-links.types.ts';

/** The decision page is the portal's: reading or completing a link needs a portal sign-in, never an API token (a token holder could otherwise act without the browser). */
function requirePortalSession(actor: Actor): Actor {
  if (actor.via !== 'session') throw new AppError(403, 'session_required', 'open the decision link in the portal, signed in as the person it was made for');
  return actor;
}

export function decisionLinksRoutes(app: HttpApp, deps: { decisionLinks: DecisionLinks; views: { present(row: RequestRow): Promise<z.infer<typeof requestOut>> } }): void {
  const tags = ['decision links'];
  const base = '/api/v1/decision-links';

  app.post(
    base,
    {
      schema: {
        tags,
        summary:
          'A one-time link (10 minutes, for you only) to the decision page, where you confirm the decision and pass the step-up its template may need. For clients that cannot run a second-factor check themselves (the CLI); 403/404/409 as the decision itself would answer now',
        body: createDecisionLinkIn,
        response: { 201: decisionLinkOut },
      },
    },
    async (request, reply) => {
      const actor = requireActor(request);
      const { request_id, decision, stage, comment, reason } = request.body;
      const link = await deps.decisionLinks.create({ userId: actor.userId, requestId: request_id, decision, stage, comment, reason });
      return reply.status(201).send({ url: link.url, expires_at: toIso(link.expires_at) });
    },
  );

  app.get(
    `${base}/:token`,
    {
      schema: {
        tags,
        summary: 'What a decision link will decide, for the decision page (portal sign-in as the link’s person). Reading never uses the link. 410 link_used or link_expired',
        params: tokenParam,
        response: { 200: decisionLinkViewOut },
      },
    },
    async (request) => {
      const { link, request: row, stepUp } = await deps.decisionLinks.read(requirePortalSession(requireActor(request)), request.params.token);
      return { decision: link.decision, stage: link.stage, comment: link.comment, expires_at: toIso(link.expires_at), request: await deps.views.present(row), step_up: stepUp };
    },
  );

  app.post(
    `${base}/:token/complete`,
    {
      schema: {
        tags,
        summary: 'Make the linked decision: spends the link and the step-up proof (step_up) together with the decision, in one transaction',
        params: tokenParam,
        body: completeDecisionLinkIn,
        response: { 200: requestOut },
      },
    },
    async (request) => deps.views.present(await deps.decisionLinks.complete(requirePortalSession(requireActor(request)), request.params.token, request.body.step_up)),
  );
}
