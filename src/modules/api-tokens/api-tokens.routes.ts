import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { apiTokenPolicy, apiTokenPolicyPatch, type ApiTokenPolicyService } from './api-tokens.policy.ts';
import { toApiTokenOut, type ApiTokensService } from './api-tokens.service.ts';
import { apiTokenOut, createApiTokenIn, createdApiTokenOut, listApiTokensQuery } from './api-tokens.types.ts';

/** API tokens for scripts and Terraform. Every signed-in user manages their own. */
export function apiTokensRoutes(app: HttpApp, deps: { tokens: ApiTokensService; policy: ApiTokenPolicyService }): void {
  const { tokens, policy } = deps;
  const tags = ['api-tokens'];

  app.get(
    '/api/v1/settings/api-tokens',
    {
      schema: {
        tags,
        summary: 'The longest lifetime an API token may have, in days, for non-admins and for admins (null: no limit)',
        response: { 200: apiTokenPolicy },
      },
    },
    async (request) => {
      requireActor(request);
      return policy.read();
    },
  );

  app.patch(
    '/api/v1/settings/api-tokens',
    {
      schema: {
        tags,
        summary: 'Change the API token lifetime limits (admin). Existing tokens keep their expiry',
        body: apiTokenPolicyPatch,
        response: { 200: apiTokenPolicy },
      },
    },
    async (request) => policy.update(requireActor(request), request.body),
  );

  app.get(
    '/api/v1/api-tokens',
    {
      schema: {
        tags,
        summary: 'List your API tokens (an admin may pass user_id, or all=true for everyone\'s)',
        querystring: listApiTokensQuery,
        response: { 200: pageOf(apiTokenOut) },
      },
    },
    async (request) => {
      const page = await tokens.list(requireActor(request), request.query);
      return { items: page.items.map(toApiTokenOut), next_cursor: page.next_cursor };
    },
  );

  app.post(
    '/api/v1/api-tokens',
    {
      schema: {
        tags,
        summary:
          'Create an API token. The response is the only time the token is shown; only its hash is kept. expires_at is required and bounded when the owner has a lifetime limit (400 otherwise)',
        body: createApiTokenIn,
        response: { 201: createdApiTokenOut },
      },
    },
    async (request, reply) => {
      const issued = await tokens.create(requireActor(request), request.body);
      return reply.status(201).send({ ...toApiTokenOut(issued.row), token: issued.token });
    },
  );

  app.delete(
    '/api/v1/api-tokens/:id',
    { schema: { tags, summary: 'Delete an API token (its owner, or an admin)', params: idParam } },
    async (request, reply) => {
      await tokens.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
