import { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import { AppError, badRequest } from '../../http/errors.ts';
import { idParam } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { InteractionHandler } from './interactions.ts';
import type { SlackService } from './slack.service.ts';
import { linkTokenOut, linkTokenParam, slackLinkListOut, slackLinkOut, slackSettingsIn, slackSettingsOut, toSlackLinkOut } from './slack.types.ts';

/** Slack sends small forms; anything bigger is not Slack. */
const INTERACTION_BODY_LIMIT = 256 * 1024;

/** The Slack app: its settings (admin), the interactivity endpoint (Slack, signed) and each user's links. */
export function slackRoutes(app: HttpApp, deps: { slack: SlackService; interactions: InteractionHandler }): void {
  const { slack, interactions } = deps;
  const tags = ['slack'];

  app.get('/api/v1/settings/slack', { schema: { tags, summary: 'The Slack app settings (admin); the secrets are never returned', response: { 200: slackSettingsOut } } }, async (request) =>
    slack.settings(requireActor(request)),
  );
  app.put(
    '/api/v1/settings/slack',
    { schema: { tags, summary: "Set the Slack app's bot token and signing secret (admin, write-only, audited)", body: slackSettingsIn, response: { 200: slackSettingsOut } } },
    async (request) => slack.saveSettings(requireActor(request), request.body),
  );
  app.delete('/api/v1/settings/slack', { schema: { tags, summary: 'Remove the Slack app settings (admin, audited): buttons stop working' } }, async (request, reply) => {
    await slack.removeSettings(requireActor(request));
    return reply.status(204).send();
  });

  // The interactivity endpoint needs the body exactly as sent, to verify Slack's signature
  // before anything is parsed: in this route's scope, every body (Slack sends a form) is
  // kept as the raw string and read only after the signature holds.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: INTERACTION_BODY_LIMIT }, (_request, body, done) => done(null, body));
    scope.post(
      '/api/v1/slack/interactions',
      {
        config: { public: true },
        schema: {
          tags,
          summary: "Slack's interactivity requests (button presses), signed with the app's signing secret; unsigned, stale or wrongly signed requests get 401",
          security: [],
          response: { 200: z.object({ ok: z.literal(true) }) },
        },
      },
      async (request, reply) => {
        const header = (name: string) => {
          const value = request.headers[name];
          return typeof value === 'string' ? value : undefined;
        };
        const rawBody = typeof request.body === 'string' ? request.body : '';
        const answer = await interactions.handle({ rawBody, timestamp: header('x-slack-request-timestamp'), signature: header('x-slack-signature') });
        if (answer.status === 401) throw new AppError(401, 'slack_signature_invalid', 'not a correctly signed, current request from the configured Slack app');
        if (answer.status === 400) throw badRequest('validation_failed', answer.body.error ?? 'payload: not understood', [{ field: 'payload', message: answer.body.error ?? 'not understood' }]);
        return reply.status(200).send({ ok: true as const });
      },
    );
  });

  app.get(
    '/api/v1/slack/link-tokens/:token',
    { schema: { tags, summary: 'What a Slack link token would link (your portal session). Reading never spends it', params: linkTokenParam, response: { 200: linkTokenOut } } },
    async (request) => slack.describeLinkToken(requireActor(request), request.params.token),
  );
  app.post(
    '/api/v1/slack/link-tokens/:token/confirm',
    { schema: { tags, summary: 'Link the Slack identity of this token to you (your portal session with its CSRF token; one-time, audited)', params: linkTokenParam, response: { 201: slackLinkOut } } },
    async (request, reply) => reply.status(201).send(toSlackLinkOut(await slack.confirmLinkToken(requireActor(request), request.params.token))),
  );
  app.get('/api/v1/me/slack-links', { schema: { tags, summary: 'Your linked Slack identities', response: { 200: slackLinkListOut } } }, async (request) => ({
    items: (await slack.listLinks(requireActor(request))).map(toSlackLinkOut),
  }));
  app.delete('/api/v1/me/slack-links/:id', { schema: { tags, summary: 'Remove one of your Slack links (audited)', params: idParam } }, async (request, reply) => {
    await slack.removeLink(requireActor(request), request.params.id);
    return reply.status(204).send();
  });
}
