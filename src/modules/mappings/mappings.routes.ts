import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { toMappingOut, type MappingsService } from './mappings.service.ts';
import { createMappingIn, listMappingsQuery, mappingOut, updateMappingIn } from './mappings.types.ts';

/** Mappings (Terraform resource `app_mapping`): a claim value an application grants to members of groups. */
export function mappingsRoutes(app: HttpApp, deps: { mappings: MappingsService }): void {
  const tags = ['mappings'];

  app.get(
    '/api/v1/mappings',
    { schema: { tags, summary: 'List mappings, optionally of one application (admin)', querystring: listMappingsQuery, response: { 200: pageOf(mappingOut) } } },
    async (request) => {
      const page = await deps.mappings.list(requireActor(request), request.query);
      return { items: page.items.map(toMappingOut), next_cursor: page.next_cursor };
    },
  );

  app.post(
    '/api/v1/mappings',
    { schema: { tags, summary: 'Create a mapping (admin)', body: createMappingIn, response: { 201: mappingOut } } },
    async (request, reply) => reply.status(201).send(toMappingOut(await deps.mappings.create(requireActor(request), request.body))),
  );

  app.get(
    '/api/v1/mappings/:id',
    { schema: { tags, summary: 'Read a mapping (admin)', params: idParam, response: { 200: mappingOut } } },
    async (request) => toMappingOut(await deps.mappings.get(requireActor(request), request.params.id)),
  );

  app.patch(
    '/api/v1/mappings/:id',
    { schema: { tags, summary: 'Change a mapping (admin); group_ids replaces the whole set', params: idParam, body: updateMappingIn, response: { 200: mappingOut } } },
    async (request) => toMappingOut(await deps.mappings.update(requireActor(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/mappings/:id',
    { schema: { tags, summary: 'Delete a mapping (admin)', params: idParam } },
    async (request, reply) => {
      await deps.mappings.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
