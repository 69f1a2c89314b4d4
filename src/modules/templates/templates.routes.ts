import type { FastifyReply } from 'fastify';
import { requireActor } from '../../http/auth.ts';
import { pageOf, pageQuery } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import { z } from 'zod';
import { etagOf, ifMatchHeader, parseIfMatch } from './template-etag.ts';
import type { TemplatesService } from './templates.service.ts';
import { createTemplateIn, listTemplatesQuery, requestableOut, templateOut, toRequestableOut, toTemplateOut, updateTemplateIn, type Template } from './templates.types.ts';

const BASE = '/api/v1/access-request-templates';

/** Access-request templates: admin CRUD, and the requestable list for every signed-in user. */
export function templatesRoutes(app: HttpApp, deps: { templates: TemplatesService }): void {
  const { templates } = deps;
  const tags = ['access-request templates'];
  const present = async (list: Template[]) => {
    const warnings = await templates.warnings(list);
    return list.map((t) => toTemplateOut(t, warnings.get(t.id) ?? []));
  };
  const presentOne = async (t: Template) => (await present([t]))[0]!;
  /** One template with its ETag header, the value PATCH's If-Match takes. */
  const withEtag = async (reply: FastifyReply, t: Template) => {
    reply.header('etag', etagOf(t.version));
    return presentOne(t);
  };

  app.get(
    BASE,
    { schema: { tags, summary: 'List templates, optionally by part of their name or description (admin)', querystring: listTemplatesQuery, response: { 200: pageOf(templateOut) } } },
    async (request) => {
      const page = await templates.list(requireActor(request), request.query);
      return { items: await present(page.items), next_cursor: page.next_cursor };
    },
  );

  app.get(
    `${BASE}/requestable`,
    {
      schema: {
        tags,
        summary: 'Templates you may request now, with what the request form needs (any signed-in user)',
        querystring: pageQuery,
        response: { 200: pageOf(requestableOut) },
      },
    },
    async (request) => {
      const page = await templates.listRequestable(requireActor(request), request.query);
      return { items: page.items.map((r) => toRequestableOut(r.template, { app: r.app, groups: r.groupNames }, r.mine)), next_cursor: page.next_cursor };
    },
  );

  app.post(
    BASE,
    { schema: { tags, summary: 'Create a template (admin)', body: createTemplateIn, response: { 201: templateOut } } },
    async (request, reply) => reply.status(201).send(await withEtag(reply, await templates.create(requireActor(request), request.body))),
  );

  app.get(
    `${BASE}/:id`,
    { schema: { tags, summary: 'Read a template (admin); the ETag header holds its version for If-Match', params: idParam, response: { 200: templateOut } } },
    async (request, reply) => withEtag(reply, await templates.get(requireActor(request), request.params.id)),
  );

  app.patch(
    `${BASE}/:id`,
    {
      schema: {
        tags,
        summary: 'Change any subset of a template (admin); the result is checked whole and its version bumped. With If-Match, only if it is still at that version (else 412)',
        params: idParam,
        // Loose: the header schema's output replaces request.headers, which must keep the rest.
        headers: z.looseObject({ 'if-match': ifMatchHeader }),
        body: updateTemplateIn,
        response: { 200: templateOut },
      },
    },
    async (request, reply) => withEtag(reply, await templates.update(requireActor(request), request.params.id, request.body, parseIfMatch(request.headers['if-match']))),
  );

  app.delete(
    `${BASE}/:id`,
    { schema: { tags, summary: 'Delete a template (admin); the grants it backs are revoked', params: idParam } },
    async (request, reply) => {
      await templates.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
