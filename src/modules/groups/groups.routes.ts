import { requireActor } from '../../http/auth.ts';
import { pageOf, pageQuery } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { GroupsService } from './groups.service.ts';
import {
  createGroupIn,
  groupNameParams,
  groupOut,
  groupWithCountOut,
  listGroupsQuery,
  memberOut,
  memberParams,
  putMemberBody,
  toGroupOut,
  toMemberOut,
  toUserGroupOut,
  updateGroupIn,
  userGroupOut,
} from './groups.types.ts';
import type { MembershipsService } from './memberships.service.ts';

/** Groups and memberships. Admin-only, except a user reading their own groups. */
export function groupsRoutes(app: HttpApp, deps: { groups: GroupsService; memberships: MembershipsService }): void {
  const { groups, memberships } = deps;
  const tags = ['groups'];

  app.get(
    '/api/v1/groups',
    { schema: { tags, summary: 'List groups (admin), each with its active member count', querystring: listGroupsQuery, response: { 200: pageOf(groupWithCountOut) } } },
    async (request) => {
      const actor = requireActor(request);
      const page = await groups.list(actor, request.query);
      const counts = await memberships.activeMemberCounts(actor, page.items.map((g) => g.id));
      return { items: page.items.map((g) => ({ ...toGroupOut(g), member_count: counts.get(g.id) ?? 0 })), next_cursor: page.next_cursor };
    },
  );

  app.post(
    '/api/v1/groups',
    { schema: { tags, summary: 'Create a group (admin)', body: createGroupIn, response: { 201: groupOut } } },
    async (request, reply) => reply.status(201).send(toGroupOut(await groups.create(requireActor(request), request.body))),
  );

  app.get(
    '/api/v1/groups/by-name/:name',
    {
      schema: {
        tags,
        summary: 'Read the one group with this name, ignoring case (admin); 404 when there is none, 409 when several names differ only in case',
        params: groupNameParams,
        response: { 200: groupOut },
      },
    },
    async (request) => toGroupOut(await groups.getByName(requireActor(request), request.params.name)),
  );

  app.get(
    '/api/v1/groups/:id',
    { schema: { tags, summary: 'Read a group (admin)', params: idParam, response: { 200: groupOut } } },
    async (request) => toGroupOut(await groups.get(requireActor(request), request.params.id)),
  );

  app.patch(
    '/api/v1/groups/:id',
    { schema: { tags, summary: 'Rename or describe a group (admin)', params: idParam, body: updateGroupIn, response: { 200: groupOut } } },
    async (request) => toGroupOut(await groups.update(requireActor(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/groups/:id',
    { schema: { tags, summary: 'Delete a group (admin); its memberships and mapping links go with it', params: idParam } },
    async (request, reply) => {
      await groups.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/groups/:id/members',
    { schema: { tags, summary: 'List the live members of a group (admin)', params: idParam, querystring: pageQuery, response: { 200: pageOf(memberOut) } } },
    async (request) => {
      const page = await memberships.listMembers(requireActor(request), request.params.id, request.query);
      return { items: page.items.map(toMemberOut), next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/api/v1/groups/:id/members/:user_id',
    {
      schema: {
        tags,
        summary: "Read one live membership (admin); 404 when the user is not a member or the membership has expired",
        params: memberParams,
        response: { 200: memberOut },
      },
    },
    async (request) => toMemberOut(await memberships.getMember(requireActor(request), request.params.id, request.params.user_id)),
  );

  app.put(
    '/api/v1/groups/:id/members/:user_id',
    {
      schema: {
        tags,
        summary: 'Add a member or set their expiry (admin). Idempotent; an expired membership is replaced',
        params: memberParams,
        body: putMemberBody,
        response: { 200: memberOut, 201: memberOut },
      },
    },
    async (request, reply) => {
      const result = await memberships.put(requireActor(request), request.params.id, request.params.user_id, request.body ?? {});
      return reply.status(result.outcome === 'added' ? 201 : 200).send(toMemberOut(result.member));
    },
  );

  app.delete(
    '/api/v1/groups/:id/members/:user_id',
    { schema: { tags, summary: 'Remove a member (admin)', params: memberParams } },
    async (request, reply) => {
      await memberships.remove(requireActor(request), request.params.id, request.params.user_id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/users/:id/groups',
    {
      schema: {
        tags: ['groups', 'users'],
        summary: "A user's live groups, temporary access grants included (admin, or yourself)",
        params: idParam,
        querystring: pageQuery,
        response: { 200: pageOf(userGroupOut) },
      },
    },
    async (request) => {
      const page = await memberships.listGroupsOfUser(requireActor(request), request.params.id, request.query);
      return { items: page.items.map(toUserGroupOut), next_cursor: page.next_cursor };
    },
  );
}
