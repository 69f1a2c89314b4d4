import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Core } from '../core.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { FastPath } from '../http/fast-path.ts';
import type { AuthService } from '../modules/auth/auth.service.ts';
import type { SecondFactors } from '../modules/mfa/index.ts';
import type { RecordSignals } from '../modules/signals/signals.types.ts';
import type { Encrypter } from '../security/encryption.ts';
import { AUTHORIZATION_PATH, authorizationByPost } from './authorization-post.ts';
import { interactionRoutes } from './interactions.ts';
import { deviceConfirmRoute } from './device-confirm.ts';
import { rememberActor } from './portal-session.ts';
import { createProviderHolder } from './provider-holder.ts';
import { createProvider, OIDC_PREFIX } from './provider.ts';

export interface OidcDeps {
  core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>;
  config: Config;
  auth: AuthService;
  encrypter: Encrypter;
  /** Second factors for the sign-in pages and for confirming a device sign-in (issue 15). */
  secondFactors: SecondFactors;
  /** Serves the hot endpoints (token, userinfo, introspection) before Fastify (http/fast-path.ts). */
  fastPath?: FastPath;
  /** Signals of sessions the provider ends (issue 13). */
  recordSignals?: RecordSignals;
}

/**
 * The endpoints every relying party and resource server calls all the time. They need no
 * portal caller (oidc-provider authenticates the client or the bearer token), so the fast
 * path hands them to the provider directly, with the same headers and metrics.
 */
const HOT_ROUTES = [
  ['POST', `${OIDC_PREFIX}/token`],
  ['GET', `${OIDC_PREFIX}/me`],
  ['POST', `${OIDC_PREFIX}/me`],
  ['POST', `${OIDC_PREFIX}/token/introspection`],
] as const;
/** The route pattern Fastify reports for these (the catch-all below), so the metric keeps its label. */
const MOUNT_ROUTE = `${OIDC_PREFIX}/*`;

/**
 * Mounts the OpenID Provider at /oidc. oidc-provider is a Koa application; Fastify
 * hands it the untouched request (its own body parsers read the stream) and steps
 * aside with reply.hijack(). Our login and consent pages are ordinary Fastify routes
 * under /oidc/interaction/, which win over the catch-all.
 */
export async function mountOidc(app: FastifyInstance, deps: OidcDeps): Promise<void> {
  // Derived from the master key: a device confirm page's passkey challenge (device-flow.ts), checked again by the confirm route.
  const deviceChallengeKey = createHmac('sha256', deps.config.masterKey).update('interim device confirm challenge').digest();
  const holder = await createProviderHolder({
    core: deps.core,
    encrypter: deps.encrypter,
    keyCheckMs: deps.config.keys.checkMs,
    build: (secrets) => {
      const provider = createProvider({ core: deps.core, config: deps.config, secrets, recordSignals: deps.recordSignals, secondFactors: deps.secondFactors, deviceChallengeKey });
      provider.on('server_error', (_ctx: unknown, error: Error) => {
        // An outage is answered 503 (outage.ts) and logged as one line, not as a bug with its stack.
        if (isDatabaseUnavailable(error)) app.log.warn({ reason: error.message }, 'database unavailable');
        else app.log.error({ err: error }, 'oidc-provider server error');
      });
      return provider;
    },
  });
  /** Points the raw request at the provider's own paths (it is mounted under /oidc). */
  const unprefix = (req: IncomingMessage, url: string) => {
    const raw = req as IncomingMessage & { originalUrl?: string };
    raw.originalUrl = url;
    raw.url = url.slice(OIDC_PREFIX.length) || '/';
    return raw;
  };
  /** Hands the untouched request to the current oidc-provider, as `method url` (a path under /oidc). */
  const toProvider = async (request: FastifyRequest, reply: FastifyReply, url: string, method = request.method) => {
    const { callback } = await holder.current();
    rememberActor(request.raw, request.actor);
    request.raw.method = method;
    const raw = unprefix(request.raw, url);
    reply.hijack();
    await callback(raw, reply.raw);
  };
  for (const [method, path] of deps.fastPath ? HOT_ROUTES : []) {
    deps.fastPath!.add({
      method,
      path,
      label: MOUNT_ROUTE,
      handle: async (req, res) => {
        // A key check that fails (the database is down) is left to the Fastify route, which answers it.
        const built = await holder.current().catch(() => undefined);
        if (!built) return false;
        await built.callback(unprefix(req, req.url ?? path), res);
        return true;
      },
    });
  }

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const handle = (request: FastifyRequest, reply: FastifyReply) => toProvider(request, reply, request.raw.url ?? OIDC_PREFIX);
    scope.all(OIDC_PREFIX, { schema: { hide: true } }, handle);
    scope.all(MOUNT_ROUTE, { schema: { hide: true } }, handle);
  });
  // A POSTed authorization request goes to the provider as the equivalent GET (see authorization-post.ts).
  await app.register(async (scope) => authorizationByPost(scope, (request, reply, query) => toProvider(request, reply, `${AUTHORIZATION_PATH}?${query}`, 'GET')));

  // The device sign-in's confirmation checks the second factor before the provider reads the form (device-confirm.ts).
  await app.register(async (scope) =>
    deviceConfirmRoute(scope, {
      db: deps.core.db,
      baseUrl: deps.config.baseUrl,
      secondFactors: deps.secondFactors,
      auth: deps.auth,
      challengeKey: deviceChallengeKey,
      forward: (request, reply, form) => {
        // Fastify has read the body; the provider takes an already parsed form from req.body
        // (it warns once per process that it does, which is expected here).
        (request.raw as IncomingMessage & { body?: unknown }).body = form;
        return toProvider(request, reply, request.raw.url ?? OIDC_PREFIX);
      },
    }),
  );

  // The interaction pages use whichever Provider is current (its cookie keys read their cookies).
  const provider = new Proxy({} as Provider, { get: (_target, prop) => memberOf(holder.latest, prop) });
  // Derived from the master key, not a cookie key, so that key rotation leaves open sign-in forms valid.
  const csrfKey = createHmac('sha256', deps.config.masterKey).update('interim interaction csrf').digest();
  await app.register(async (scope) => {
    scope.addHook('onRequest', async () => {
      await holder.current();
    });
    await interactionRoutes(scope, { provider, auth: deps.auth, config: deps.config, csrfKey, db: deps.core.db, clock: deps.core.clock, secondFactors: deps.secondFactors });
  });
}

/**
 * A member of the current Provider. Methods are bound to it: they use private fields,
 * which a proxy as `this` cannot reach. Getters (Client, Grant …) return the model
 * classes as they are.
 */
function memberOf(target: Provider, prop: string | symbol): unknown {
  for (let proto: object | null = target; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, prop);
    if (!descriptor) continue;
    if (typeof descriptor.value === 'function') return (descriptor.value as (...args: unknown[]) => unknown).bind(target);
    return Reflect.get(target, prop, target);
  }
  return undefined;
}
