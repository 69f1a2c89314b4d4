import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { toApplicationOut, toApplicationWithSecretOut, type ApplicationsService } from './applications.service.ts';
import { applicationOut, applicationWithSecretOut, createApplicationIn, listApplicationsQuery, updateApplicationIn } from './applications.types.ts';

/** Applications (OIDC clients); their mappings' routes are mounted beside them (mappings.routes.ts). */
export function applicationsRoutes(app: HttpApp, deps: { applications: ApplicationsService }): void {
  const { applications } = deps;
  const tags = ['applications'];

  app.get(
    '/api/v1/applications',
    { schema: { tags, summary: 'List applications, optionally by part of their name or client id (admin)', querystring: listApplicationsQuery, response: { 200: pageOf(applicationOut) } } },
    async (request) => {
      const page = await applications.list(requireActor(request), request.query);
      return { items: page.items.map(toApplicationOut), next_cursor: page.next_cursor };
    },
  );

  app.post(
    '/api/v1/applications',
    {
      schema: {
        tags,
        summary: 'Create an application (admin). A confidential client gets client_secret in this response only',
        body: createApplicationIn,
        response: { 201: applicationWithSecretOut },
      },
    },
    async (request, reply) => reply.status(201).send(toApplicationWithSecretOut(await applications.create(requireActor(request), request.body))),
  );

  app.get(
    '/api/v1/applications/:id',
    { schema: { tags, summary: 'Read an application (admin)', params: idParam, response: { 200: applicationOut } } },
    async (request) => toApplicationOut(await applications.get(requireActor(request), request.params.id)),
  );

  app.patch(
    '/api/v1/applications/:id',
    {
      schema: {
        tags,
        summary: 'Change an application (admin). Switching a public client to a confidential method returns its new client_secret, once',
        params: idParam,
        body: updateApplicationIn,
        response: { 200: applicationWithSecretOut },
      },
    },
    async (request) => toApplicationWithSecretOut(await applications.update(requireActor(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/applications/:id',
    { schema: { tags, summary: 'Delete an application and its mappings (admin)', params: idParam } },
    async (request, reply) => {
      await applications.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/v1/applications/:id/client-secret',
    {
      schema: {
        tags,
        summary: 'Rotate the client secret (admin). The new secret is in this response only; the old one stops working',
        params: idParam,
        response: { 200: applicationWithSecretOut },
      },
    },
    async (request) => toApplicationWithSecretOut(await applications.rotateSecret(requireActor(request), request.params.id)),
  );
}
