import { requireActor } from '../../http/auth.ts';
import { pageOf, pageQuery } from '../../http/pagination.ts';
import { z } from 'zod';
import { email, idParam, searchText } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { toUserOut, type UsersService } from './users.service.ts';
import { createUserIn, updateUserIn, userOut } from './users.types.ts';

export function usersRoutes(app: HttpApp, deps: { users: UsersService }): void {
  const tags = ['users'];

  app.get(
    '/api/v1/users',
    {
      schema: {
        tags,
        summary: 'List users (admin)',
        querystring: pageQuery.extend({
          q: searchText.optional().describe('part of the email or the name, any case'),
          email: searchText.optional().describe('part of the email, any case'),
        }),
        response: { 200: pageOf(userOut) },
      },
    },
    async (request) => {
      const page = await deps.users.list(requireActor(request), request.query);
      return { items: page.items.map(toUserOut), next_cursor: page.next_cursor };
    },
  );

  app.post(
    '/api/v1/users',
    { schema: { tags, summary: 'Create a user (admin). A password set here must be changed at first sign-in unless must_change_password is false', body: createUserIn, response: { 201: userOut } } },
    async (request, reply) => reply.status(201).send(toUserOut(await deps.users.create(requireActor(request), request.body))),
  );

  app.get(
    '/api/v1/users/by-email/:email',
    {
      schema: {
        tags,
        summary: 'Read the user with this email, in any case (admin); 404 when there is none',
        params: z.object({ email }),
        response: { 200: userOut },
      },
    },
    async (request) => toUserOut(await deps.users.getByEmail(requireActor(request), request.params.email)),
  );

  app.get(
    '/api/v1/users/:id',
    { schema: { tags, summary: 'Read a user (admin, or yourself)', params: idParam, response: { 200: userOut } } },
    async (request) => toUserOut(await deps.users.get(requireActor(request), request.params.id)),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      schema: {
        tags,
        summary:
          'Change a user (admin). Disabling, removing admin or setting a password ends their sessions, API tokens and OIDC grants; a password set here must be changed at the next sign-in unless must_change_password is false. The last active admin cannot be demoted or disabled (409 last_admin)',
        params: idParam,
        body: updateUserIn,
        response: { 200: userOut },
      },
    },
    async (request) => toUserOut(await deps.users.update(requireActor(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/users/:id',
    { schema: { tags, summary: 'Delete a user (admin); their memberships, API tokens, sessions and OIDC grants go with them. Not the last active admin (409)', params: idParam } },
    async (request, reply) => {
      await deps.users.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
