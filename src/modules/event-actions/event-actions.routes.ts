import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { EventActionsService } from './event-actions.service.ts';
import {
  createdEventActionOut,
  createEventActionIn,
  eventActionOut,
  listEventActionsQuery,
  rotatedSecretOut,
  rotateSecretBody,
  toEventActionOut,
  updateEventActionIn,
} from './event-actions.types.ts';

const BASE = '/api/v1/event-actions';

/** Event actions (admin): on chosen request events, send a signed webhook, a Slack message or an email, or run a script. */
export function eventActionsRoutes(app: HttpApp, deps: { actions: EventActionsService }): void {
  const { actions } = deps;
  const tags = ['event actions'];

  app.get(
    BASE,
    { schema: { tags, summary: 'List event actions (admin)', querystring: listEventActionsQuery, response: { 200: pageOf(eventActionOut) } } },
    async (request) => {
      const page = await actions.list(requireActor(request), request.query);
      return { items: page.items.map(toEventActionOut), next_cursor: page.next_cursor };
    },
  );

  app.post(
    BASE,
    {
      schema: {
        tags,
        summary: "Create an event action (admin). A webhook's signing secret is in this response only",
        body: createEventActionIn,
        response: { 201: createdEventActionOut },
      },
    },
    async (request, reply) => {
      const { action, signingSecret } = await actions.create(requireActor(request), request.body);
      const out = toEventActionOut(action);
      if (out.kind !== 'webhook') return reply.status(201).send(out);
      if (signingSecret === null) throw new Error('a new webhook action came without its signing secret');
      return reply.status(201).send({ ...out, signing_secret: signingSecret });
    },
  );

  app.get(
    `${BASE}/:id`,
    { schema: { tags, summary: 'Read an event action (admin); secrets are never shown', params: idParam, response: { 200: eventActionOut } } },
    async (request) => toEventActionOut(await actions.get(requireActor(request), request.params.id)),
  );

  app.patch(
    `${BASE}/:id`,
    {
      schema: {
        tags,
        summary: 'Change any subset of an event action (admin); config is replaced whole and the kind cannot change',
        params: idParam,
        body: updateEventActionIn,
        response: { 200: eventActionOut },
      },
    },
    async (request) => toEventActionOut(await actions.update(requireActor(request), request.params.id, request.body)),
  );

  app.delete(
    `${BASE}/:id`,
    { schema: { tags, summary: 'Delete an event action (admin); its delivery history stays', params: idParam } },
    async (request, reply) => {
      await actions.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    `${BASE}/:id/rotate-secret`,
    {
      schema: {
        tags,
        summary: "Replace a webhook action's signing secret (admin): given, or generated when the body is left out. Shown in this response only",
        params: idParam,
        body: rotateSecretBody,
        response: { 200: rotatedSecretOut },
      },
    },
    async (request) => {
      const { action, signingSecret } = await actions.rotateSecret(requireActor(request), request.params.id, request.body);
      const out = toEventActionOut(action);
      if (out.kind !== 'webhook') throw new Error('rotateSecret returned a non-webhook action');
      return { ...out, signing_secret: signingSecret };
    },
  );
}
