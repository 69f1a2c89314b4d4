import { z } from 'zod';
import type { Core } from '../core.ts';
import { requireActor } from '../http/auth.ts';
import { notFound } from '../http/errors.ts';
import { pageOf } from '../http/pagination.ts';
import { instant, toIso, toIsoOrNull } from '../http/schemas.ts';
import type { HttpApp } from '../http/types.ts';
import { createCliDevicesRepo } from './cli-callers.ts';

/** A provider grant id (oidc-provider's nanoid): base64url characters. */
const deviceParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{10,64}$/, 'a device id from GET /api/v1/me/devices') });

const deviceOut = z.object({
  id: z.string(),
  created_at: instant.describe('when the device sign-in was confirmed'),
  last_used_at: instant.nullable().describe('when the command line last got a token with it'),
  expires_at: instant.nullable(),
  current: z.boolean().describe('the sign-in this request was made with'),
});

/**
 * The caller's command-line sign-ins (DESIGN "Assurance": device logins are revocable in
 * the portal). Each is a provider grant of the built-in CLI client; ending one deletes it
 * with every token under it, so that CLI is signed out at its next request.
 */
export function devicesRoutes(app: HttpApp, deps: { core: Pick<Core, 'db' | 'clock' | 'audit'> }): void {
  const { core } = deps;
  const tags = ['session'];
  app.get(
    '/api/v1/me/devices',
    { schema: { tags, summary: 'Your command-line sign-ins (interim login), newest first', response: { 200: pageOf(deviceOut) } } },
    async (request) => {
      const actor = requireActor(request);
      const devices = await createCliDevicesRepo(core.db).list(actor.userId, core.clock.now());
      const current = actor.via === 'cli' ? actor.tokenId : undefined;
      return {
        items: devices.map((d) => ({ id: d.id, created_at: toIso(d.created_at), last_used_at: toIsoOrNull(d.last_used_at), expires_at: toIsoOrNull(d.expires_at), current: d.id === current })),
        next_cursor: null,
      };
    },
  );
  app.delete(
    '/api/v1/me/devices/:id',
    { schema: { tags, summary: 'Sign out one of your command-line sign-ins: its tokens stop working at once (audited as oidc.device_revoked)', params: deviceParam } },
    async (request, reply) => {
      const actor = requireActor(request);
      const ended = await core.db.transaction().execute(async (trx) => {
        const gone = await createCliDevicesRepo(trx).revoke(actor.userId, request.params.id);
        if (gone) await core.audit.append(trx, { actor, action: 'oidc.device_revoked', targetType: 'user', targetId: actor.userId, data: { grant_id: request.params.id } });
        return gone;
      });
      if (!ended) throw notFound('device sign-in');
      return reply.status(204).send();
    },
  );
}
