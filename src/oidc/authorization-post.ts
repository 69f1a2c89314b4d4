import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { OIDC_PREFIX } from './provider.ts';

export const AUTHORIZATION_PATH = `${OIDC_PREFIX}/auth`;

/** Form-serialized authorization parameters: each a string, or repeated (the provider then refuses it). */
const authorizationForm = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

/** The form body as a query string, repeated parameters kept repeated so oidc-provider's duplicate check sees them. */
export function formToQuery(form: z.infer<typeof authorizationForm>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) for (const v of Array.isArray(value) ? value : [value]) query.append(name, v);
  return query.toString();
}

/**
 * OpenID Connect Core 3.1.2.1: the authorization endpoint accepts POST with form
 * serialization as well as GET. oidc-provider offers POST only with SameSite=None
 * session cookies (`enableHttpPostMethods`), which would send its session cookie on
 * every cross-site request. We keep SameSite=Lax instead and hand the posted form to the
 * provider as the equivalent GET, in the same request. A cross-site POST carries neither
 * cookie, so the provider asks for login; our interaction page, reached by a top-level
 * GET that does carry the portal session, then completes it without a form. (So
 * `prompt=none` by cross-site POST answers login_required: use GET for silent checks.)
 */
export async function authorizationByPost(app: FastifyInstance, handleAsGet: (request: FastifyRequest, reply: FastifyReply, query: string) => Promise<void>): Promise<void> {
  // Form serialization only: anything else is refused (415) by the problem handler.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.post(AUTHORIZATION_PATH, { schema: { hide: true } }, async (request, reply) => {
    const form = authorizationForm.safeParse(request.body ?? {});
    if (!form.success) {
      return reply.code(400).type('application/json').send({ error: 'invalid_request', error_description: 'the authorization request must be a form of string parameters' });
    }
    return handleAsGet(request, reply, formToQuery(form.data));
  });
}
