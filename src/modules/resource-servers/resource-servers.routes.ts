import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { toResourceServerOut, type ResourceServersService } from './resource-servers.service.ts';
import { createResourceServerIn, listResourceServersQuery, resourceServerOut, updateResourceServerIn } from './resource-servers.types.ts';

/** /api/v1/resource-servers: the APIs clients may ask tokens for (RFC 8707), admin only. */
export function resourceServersRoutes(app: HttpApp, deps: { servers: ResourceServersService }): void {
  const { servers } = deps;
  const tags = ['resource-servers'];

  app.get(
    '/api/v1/resource-servers',
    { schema: { tags, summary: 'List resource servers, optionally by part of their name or audience (admin)', querystring: listResourceServersQuery, response: { 200: pageOf(resourceServerOut) } } },
    async (request) => {
      const page = await servers.list(requireActor(request), request.query);
      return { items: page.items.map(toResourceServerOut), next_cursor: page.next_cursor };
    },
  );

  app.post(
    '/api/v1/resource-servers',
    {
      schema: {
        tags,
        summary: 'Register a resource server (admin): its audience (the resource indicator), the scopes it accepts and the applications that may ask for it',
        body: createResourceServerIn,
        response: { 201: resourceServerOut },
      },
    },
    async (request, reply) => reply.status(201).send(toResourceServerOut(await servers.create(requireActor(request), request.body))),
  );

  app.get(
    '/api/v1/resource-servers/:id',
    { schema: { tags, summary: 'Read a resource server (admin)', params: idParam, response: { 200: resourceServerOut } } },
    async (request) => toResourceServerOut(await servers.get(requireActor(request), request.params.id)),
  );

  app.patch(
    '/api/v1/resource-servers/:id',
    { schema: { tags, summary: 'Change a resource server (admin); app_ids and scopes replace the lists whole', params: idParam, body: updateResourceServerIn, response: { 200: resourceServerOut } } },
    async (request) => toResourceServerOut(await servers.update(requireActor(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/resource-servers/:id',
    { schema: { tags, summary: 'Delete a resource server (admin); no new tokens are issued for it', params: idParam } },
    async (request, reply) => {
      await servers.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
