import { Readable } from 'node:stream';
import { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import { pageOf } from '../../http/pagination.ts';
import { idParam, instant } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { toAuditOut } from '../audit/index.ts';
import type { DiscussionService } from './discussion.service.ts';
import type { RequestsService } from './requests.service.ts';
import { adminFilterQuery, adminListQuery, commentIn, commentOut, decisionIn, inboxItemOut, listQuery, requestDetailOut, requestOut, revokeIn, submitRequestIn } from './requests.types.ts';
import type { RequestViews } from './requests.views.ts';
import { extensionIn } from './extension.ts';
import { bulkRoutes } from './bulk.routes.ts';
import { requesterAccessOut } from './requester-access.ts';

const timelineOut = z.array(
  z.object({ seq: z.number(), id: z.string(), at: instant, actor_type: z.string(), actor_id: z.string().nullable(), action: z.string(), data: z.record(z.string(), z.unknown()) }),
);

export function requestsRoutes(app: HttpApp, deps: { requests: RequestsService; views: RequestViews; discussion: DiscussionService }): void {
  const tags = ['access requests'];
  const base = '/api/v1/access-requests';

  app.post(
    base,
    {
      schema: {
        tags,
        summary: 'Ask for access from a template. At most one open request per template; an auto-approve template grants at once',
        body: submitRequestIn,
        response: { 201: requestOut },
      },
    },
    async (request, reply) => {
      const row = await deps.requests.submit(requireActor(request), request.body);
      return reply.status(201).send(await deps.views.present(row));
    },
  );

  app.get(base, { schema: { tags, summary: 'Your own requests, newest first', querystring: listQuery, response: { 200: pageOf(requestOut) } } }, async (request) =>
    deps.views.listMine(requireActor(request), request.query),
  );

  app.get(
    `${base}/inbox`,
    { schema: { tags, summary: 'Pending requests you may decide, oldest first (escalated ones included)', querystring: listQuery.omit({ status: true }), response: { 200: pageOf(inboxItemOut) } } },
    async (request) => deps.views.listInbox(requireActor(request), request.query),
  );

  app.get(
    `${base}/decided`,
    { schema: { tags, summary: 'Requests you approved or denied, newest first', querystring: listQuery, response: { 200: pageOf(requestOut) } } },
    async (request) => deps.views.listDecided(requireActor(request), request.query),
  );

  app.get(
    `${base}/all`,
    {
      schema: {
        tags,
        summary: 'Every request, filtered by status, requester, template, approver, submission time and text, sorted by submission, last change or end (admin)',
        querystring: adminListQuery,
        response: { 200: pageOf(requestOut) },
      },
    },
    async (request) => deps.views.listAll(requireActor(request), request.query),
  );

  app.get(
    `${base}/export`,
    { schema: { tags, summary: 'The admin list’s filtered set as CSV, in its sort order, with names and emails beside the ids (admin)', querystring: adminFilterQuery } },
    async (request, reply) => {
      const lines = deps.views.exportAll(requireActor(request), request.query);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="interim-requests.csv"').send(Readable.from(lines));
    },
  );

  app.get(
    `${base}/all/pending-elsewhere`,
    {
      schema: {
        tags,
        summary: 'How many of others’ pending requests you cannot decide: what your inbox leaves out (admin)',
        response: { 200: z.object({ count: z.number().int() }) },
      },
    },
    async (request) => deps.views.pendingElsewhere(requireActor(request)),
  );

  app.get(
    `${base}/:id`,
    { schema: { tags, summary: 'A request with the requester’s current groups and the discussion', params: idParam, response: { 200: requestDetailOut } } },
    async (request) => deps.views.detail(requireActor(request), request.params.id),
  );

  const decision = (path: string, summary: string, body: typeof decisionIn | typeof revokeIn, act: (actor: ReturnType<typeof requireActor>, id: string, body: Record<string, string | undefined>) => ReturnType<RequestsService['approve']>) =>
    app.post(`${base}/:id/${path}`, { schema: { tags, summary, params: idParam, body, response: { 200: requestOut } } }, async (request) =>
      deps.views.present(await act(requireActor(request), request.params.id, request.body as Record<string, string | undefined>)),
    );

  decision('approve', 'Approve a pending request (eligible approvers only); grants access at once', decisionIn, (a, id, b) => deps.requests.approve(a, id, b.comment, { stepUp: b.step_up }));
  decision('deny', 'Deny a pending request, with an optional comment', decisionIn, (a, id, b) => deps.requests.deny(a, id, b.comment, { stepUp: b.step_up }));
  decision('cancel', 'Withdraw your own pending request', decisionIn, (a, id) => deps.requests.cancel(a, id));
  decision('revoke', 'End an approved grant early, with a reason (admin, approver-group member, or the requester)', revokeIn, (a, id, b) => deps.requests.revoke(a, id, b.reason!, { stepUp: b.step_up }));
  bulkRoutes(app, base, deps.requests);

  app.post(
    `${base}/:id/extensions`,
    {
      schema: {
        tags,
        summary: 'Ask for more time on your active grant: one of the template’s durations, with a justification; granted at once when the template needs no approval for it',
        params: idParam,
        body: extensionIn,
        response: { 201: requestOut },
      },
    },
    async (request, reply) => reply.status(201).send(await deps.views.present(await deps.requests.extend(requireActor(request), request.params.id, request.body))),
  );

  app.get(`${base}/:id/comments`, { schema: { tags, summary: 'The discussion thread', params: idParam, response: { 200: z.array(commentOut) } } }, async (request) =>
    deps.views.listComments(requireActor(request), request.params.id),
  );

  app.post(
    `${base}/:id/comments`,
    { schema: { tags, summary: 'Add to the discussion', params: idParam, body: commentIn, response: { 201: z.object({ id: z.uuid() }) } } },
    async (request, reply) => {
      const comment = await deps.discussion.addComment(requireActor(request), request.params.id, request.body.body);
      return reply.status(201).send({ id: comment.id });
    },
  );

  app.get(
    `${base}/:id/requester-access`,
    {
      schema: {
        tags,
        summary:
          'What the requester already holds for the request’s application: active and scheduled grants (any template), permanent memberships that feed its claims, and a count of their grants elsewhere. Admins and those who decide or revoke the request; 403 for the requester and other viewers, 404 for those who may not see the request',
        params: idParam,
        response: { 200: requesterAccessOut },
      },
    },
    async (request) => deps.views.requesterAccess(requireActor(request), request.params.id),
  );

  app.get(
    `${base}/:id/timeline`,
    { schema: { tags, summary: 'Every audit event of the request, oldest first', params: idParam, response: { 200: timelineOut } } },
    async (request) => (await deps.views.timeline(requireActor(request), request.params.id)).map(toAuditOut),
  );
}
