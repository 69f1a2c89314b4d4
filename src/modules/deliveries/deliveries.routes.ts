import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { DeliveriesService, DeliveryWithAttempts } from './deliveries.service.ts';
import { actionDeliveriesQuery, deliveryOut, listDeliveriesQuery, toDeliveryOut } from './deliveries.types.ts';

const out = (d: DeliveryWithAttempts) => toDeliveryOut(d.delivery, d.attempts);

/** The outbox's delivery history (admin): per event action, per request, and resending one. */
export function deliveriesRoutes(app: HttpApp, deps: { deliveries: DeliveriesService }): void {
  const { deliveries } = deps;
  const tags = ['deliveries'];

  app.get(
    '/api/v1/deliveries',
    {
      schema: {
        tags,
        summary: 'List deliveries, newest first, with their latest attempts (admin). Filter by request_id for the history of one request',
        querystring: listDeliveriesQuery,
        response: { 200: pageOf(deliveryOut) },
      },
    },
    async (request) => {
      const page = await deliveries.list(requireActor(request), request.query);
      return { items: page.items.map(out), next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/api/v1/deliveries/:id',
    { schema: { tags, summary: 'Read a delivery with its latest attempts (admin)', params: idParam, response: { 200: deliveryOut } } },
    async (request) => out(await deliveries.get(requireActor(request), request.params.id)),
  );

  app.post(
    '/api/v1/deliveries/:id/retry',
    {
      schema: {
        tags,
        summary: 'Send a dead or succeeded delivery again, now, with the same event id (admin). 409 while it is pending or running',
        params: idParam,
        response: { 200: deliveryOut },
      },
    },
    async (request) => out(await deliveries.retry(requireActor(request), request.params.id)),
  );

  app.get(
    '/api/v1/event-actions/:id/deliveries',
    {
      schema: {
        tags: [...tags, 'event actions'],
        summary: 'The delivery history of one event action, newest first (admin)',
        params: idParam,
        querystring: actionDeliveriesQuery,
        response: { 200: pageOf(deliveryOut) },
      },
    },
    async (request) => {
      const page = await deliveries.listForAction(requireActor(request), request.params.id, request.query);
      return { items: page.items.map(out), next_cursor: page.next_cursor };
    },
  );
}
