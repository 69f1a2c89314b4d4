import { requireActor } from '../../http/auth.ts';
import { pageOf, pageQuery } from '../../http/pagination.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { ScriptsService } from './scripts.service.ts';
import {
  createScriptIn,
  createSecretIn,
  listRunsQuery,
  listScriptsQuery,
  runOut,
  scriptOut,
  secretOut,
  testRunIn,
  updateScriptIn,
  updateSecretIn,
} from './scripts.types.ts';

/** Scripts, script secrets and run records. Admin only. */
export function scriptsRoutes(app: HttpApp, deps: { scripts: ScriptsService }): void {
  const { scripts } = deps;
  const tags = ['scripts'];

  app.get(
    '/api/v1/scripts',
    { schema: { tags, summary: 'List scripts, optionally by part of their name (admin)', querystring: listScriptsQuery, response: { 200: pageOf(scriptOut) } } },
    async (request) => scripts.list(requireActor(request), request.query),
  );

  app.post(
    '/api/v1/scripts',
    { schema: { tags, summary: 'Create a script (admin)', body: createScriptIn, response: { 201: scriptOut } } },
    async (request, reply) => reply.status(201).send(await scripts.create(requireActor(request), request.body)),
  );

  app.get(
    '/api/v1/scripts/:id',
    { schema: { tags, summary: 'Read a script (admin)', params: idParam, response: { 200: scriptOut } } },
    async (request) => scripts.get(requireActor(request), request.params.id),
  );

  app.patch(
    '/api/v1/scripts/:id',
    { schema: { tags, summary: 'Change a script (admin); secret_ids replaces the grants', params: idParam, body: updateScriptIn, response: { 200: scriptOut } } },
    async (request) => scripts.update(requireActor(request), request.params.id, request.body),
  );

  app.delete(
    '/api/v1/scripts/:id',
    { schema: { tags, summary: 'Delete a script (admin); refused while a template runs it', params: idParam } },
    async (request, reply) => {
      await scripts.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/scripts/:id/runs',
    { schema: { tags, summary: "A script's runs, newest first (admin)", params: idParam, querystring: pageQuery, response: { 200: pageOf(runOut) } } },
    async (request) => scripts.listRuns(requireActor(request), request.params.id, request.query),
  );

  app.post(
    '/api/v1/scripts/:id/test',
    {
      schema: {
        tags,
        summary: 'Run a script now against a sample event (admin); the run is recorded as test:<type>',
        params: idParam,
        body: testRunIn,
        response: { 200: runOut },
      },
    },
    async (request) => scripts.testRun(requireActor(request), request.params.id, request.body),
  );

  app.get(
    '/api/v1/script-runs',
    { schema: { tags, summary: 'Script runs, newest first, optionally for one access request (admin)', querystring: listRunsQuery, response: { 200: pageOf(runOut) } } },
    async (request) => scripts.listRunsByRequest(requireActor(request), request.query),
  );

  const secretTags = ['scripts', 'script-secrets'];

  app.get(
    '/api/v1/script-secrets',
    { schema: { tags: secretTags, summary: 'List script secrets, without values (admin)', querystring: pageQuery, response: { 200: pageOf(secretOut) } } },
    async (request) => scripts.secrets.list(requireActor(request), request.query),
  );

  app.post(
    '/api/v1/script-secrets',
    { schema: { tags: secretTags, summary: 'Create a script secret (admin); the value is write-only', body: createSecretIn, response: { 201: secretOut } } },
    async (request, reply) => reply.status(201).send(await scripts.secrets.create(requireActor(request), request.body)),
  );

  app.get(
    '/api/v1/script-secrets/:id',
    { schema: { tags: secretTags, summary: 'Read a script secret, without its value (admin)', params: idParam, response: { 200: secretOut } } },
    async (request) => scripts.secrets.get(requireActor(request), request.params.id),
  );

  app.patch(
    '/api/v1/script-secrets/:id',
    { schema: { tags: secretTags, summary: 'Rename a script secret or replace its value (admin)', params: idParam, body: updateSecretIn, response: { 200: secretOut } } },
    async (request) => scripts.secrets.update(requireActor(request), request.params.id, request.body),
  );

  app.delete(
    '/api/v1/script-secrets/:id',
    { schema: { tags: secretTags, summary: 'Delete a script secret (admin); scripts granted it lose it', params: idParam } },
    async (request, reply) => {
      await scripts.secrets.remove(requireActor(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
