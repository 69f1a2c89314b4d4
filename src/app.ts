import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Clock } from './clock.ts';
import { compose, type Services } from './compose.ts';
import type { Config } from './config.ts';
import type { Core } from './core.ts';
import type { Database } from './db/database.ts';
import { registerAuth } from './http/auth.ts';
import { createFastPath, type FastPath } from './http/fast-path.ts';
import { registerMetrics } from './http/metrics.ts';
import { openApiTransform, openApiTransformObject } from './http/openapi.ts';
import { registerPortal } from './http/portal.ts';
import { registerProblemHandler } from './http/problem.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import type { HttpApp } from './http/types.ts';
import { createApiTokensRepo } from './modules/api-tokens/api-tokens.repo.ts';
import { bootstrapHooks } from './modules/api-tokens/bootstrap-token.ts';
import { apiTokensRoutes } from './modules/api-tokens/api-tokens.routes.ts';
import { applicationsRoutes } from './modules/applications/applications.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { insightsRoutes } from './modules/insights/insights.routes.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { createSessionsRepo } from './modules/auth/sessions.repo.ts';
import { deliveriesRoutes } from './modules/deliveries/deliveries.routes.ts';
import { eventActionsRoutes } from './modules/event-actions/event-actions.routes.ts';
import { groupsRoutes } from './modules/groups/groups.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { createLiveHub } from './modules/live/live.hub.ts';
import { liveRoutes } from './modules/live/live.routes.ts';
import { mappingsRoutes } from './modules/mappings/mappings.routes.ts';
import { stepUpRoutes } from './modules/step-up/index.ts';
import { mfaRoutes } from './modules/mfa/index.ts';
import { setupRoutes } from './modules/setup/setup.routes.ts';
import { notificationsRoutes } from './modules/notifications/notifications.routes.ts';
import { requestsRoutes } from './modules/requests/requests.routes.ts';
import { breakGlassRoutes } from './modules/requests/break-glass.routes.ts';
import { decisionLinksRoutes } from './modules/decision-links/index.ts';
import { resourceServersRoutes } from './modules/resource-servers/resource-servers.routes.ts';
import { scriptsRoutes } from './modules/scripts/scripts.routes.ts';
import { ssfRoutes, ssfSecurityScheme } from './modules/ssf/index.ts';
import { createInteractionHandler, slackRoutes } from './modules/slack/index.ts';
import { templatesRoutes } from './modules/templates/templates.routes.ts';
import { bootstrapFirstAdmin, type BootstrapResult } from './modules/users/bootstrap.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import { mountOidc } from './oidc/mount.ts';
import { createCliCallers } from './oidc/cli-callers.ts';
import { devicesRoutes } from './oidc/devices.routes.ts';
import { startWorker, UNBOUNDED, type WorkerHandle, type WorkerTask } from './worker/worker.ts';

export interface App {
  http: FastifyInstance;
  /** The hot OIDC endpoints' path before Fastify (http/fast-path.ts). */
  fastPath: FastPath;
  core: Core;
  database: Database;
  services: Services;
  /** The worker's tasks, as compose() registered them (listen() starts them when config.runWorker). */
  tasks: readonly WorkerTask[];
  /**
   * Creates the first admin on an empty database (once; later calls find users and do
   * nothing). listen() calls it after binding the port; an app that never listens (a
   * benchmark driving it with inject) calls it itself.
   */
  bootstrap(): Promise<BootstrapResult>;
  /** Runs the worker's due work once, now (tests call it after moving the clock). */
  runWorkerOnce(): Promise<void>;
  /**
   * Binds the port, then bootstraps and starts the worker: everything that can fail on a
   * first start fails before the first admin and its one-time password exist.
   */
  listen(): Promise<{ address: string; bootstrap: BootstrapResult }>;
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  /** Pino logger options, or false for silence (tests). */
  logger?: boolean | object;
}

/**
 * The server: compose() builds the database, every service and the worker's tasks; this
 * adds HTTP (routes get only the services they call), OIDC, the live hub and the portal.
 */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const composition = await compose(config, { clock: options.clock });
  const { database, core, encrypter, services, tasks } = composition;

  // The hot OIDC endpoints are served before Fastify's plumbing, with the same headers and metrics (http/fast-path.ts).
  const fastPath = createFastPath({ trustProxy: config.trustProxy });
  const http = Fastify({
    logger: options.logger ?? { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'] },
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    serverFactory: (handler, opts) => fastPath.serverFactory(handler, opts),
  });
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  registerProblemHandler(http);
  registerSecurityHeaders(http, config.trustProxy);
  await http.register(cookie);
  await http.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Interim API', version: '1', description: 'Admin and self-service API of the Interim identity provider' },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'An API token (interim token create, or POST /api/v1/api-tokens)' },
          session: { type: 'apiKey', in: 'cookie', name: '__Host-interim_session' },
          ssfReceiver: ssfSecurityScheme(config.baseUrl),
        },
      },
      security: [{ apiToken: [] }, { session: [] }],
    },
    transform: openApiTransform,
    transformObject: openApiTransformObject,
  });
  // The API reference is public, like the OpenAPI document it renders.
  http.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/v1/docs')) route.config = { ...route.config, public: true };
  });
  // Tags start folded: with every operation unfolded, swagger-ui stops rendering part-way through our 130-odd.
  await http.register(swaggerUi, { routePrefix: '/api/v1/docs', uiConfig: { deepLinking: true, docExpansion: 'none' } });
  // The auth plugin reads API tokens and sessions through their modules' repos (http sits below both).
  const cliCallers = createCliCallers(core.db);
  const callers = { tokens: createApiTokensRepo(core.db), sessions: createSessionsRepo(core.db), cliTokens: cliCallers };
  registerAuth(http, { callers, clock: core.clock, sessionIdleMs: config.session.idleMs });
  fastPath.observe = registerMetrics(http).observe;

  const { users, auth } = services;
  const api = http.withTypeProvider<ZodTypeProvider>() as HttpApp;
  healthRoutes(api, { db: core.db });
  authRoutes(api, { auth, users, sessionAbsoluteMs: config.session.absoluteMs, clock: core.clock });
  usersRoutes(api, { users });
  groupsRoutes(api, { groups: services.groups, memberships: services.memberships });
  applicationsRoutes(api, { applications: services.applications });
  mappingsRoutes(api, { mappings: services.mappings });
  setupRoutes(api, { setup: services.setup });
  stepUpRoutes(api, { stepUp: services.stepUp });
  mfaRoutes(api, { enrolment: services.enrolment, admin: services.mfaAdmin });
  resourceServersRoutes(api, { servers: services.resourceServers });
  apiTokensRoutes(api, { tokens: services.apiTokens, policy: services.apiTokenPolicy });
  templatesRoutes(api, { templates: services.templates });
  auditRoutes(api, { audit: services.audit });
  insightsRoutes(api, { insights: services.insights });
  requestsRoutes(api, { requests: services.requests, views: services.views, discussion: services.discussion });
  devicesRoutes(api, { core });
  breakGlassRoutes(api, { breakGlass: services.breakGlass, views: services.views });
  decisionLinksRoutes(api, { decisionLinks: services.decisionLinks, views: services.views });
  scriptsRoutes(api, { scripts: services.scripts });
  eventActionsRoutes(api, { actions: services.eventActions });
  deliveriesRoutes(api, { deliveries: services.deliveries });
  notificationsRoutes(api, { notifications: services.notifications });
  ssfRoutes(api, { ssf: services.ssf, baseUrl: config.baseUrl });
  const slackInteractions = createInteractionHandler({ clock: core.clock, slack: services.slack, client: services.slackClient, decisions: services.slackDecisions, stepUp: services.slackStepUp, log: http.log });
  http.addHook('preClose', async () => slackInteractions.settled());
  slackRoutes(api, { slack: services.slack, interactions: slackInteractions });
  // The live hub serves only HTTP streams and logs through Fastify's logger, so it is built here, once.
  const live = createLiveHub(core, { pollMs: 1000, heartbeatMs: 15_000, sessionIdleMs: config.session.idleMs, maxPerUser: 10, liveCliSignIns: cliCallers.findLiveSignIns }, http.log);
  http.addHook('preClose', async () => live.close());
  liveRoutes(api, { hub: live, retryMs: 3000 });
  api.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => http.swagger());
  await mountOidc(http, { core, config, auth, encrypter, fastPath, recordSignals: services.recordSignals, secondFactors: services.secondFactors });
  await registerPortal(http);

  let worker: WorkerHandle | undefined;
  // A change answered may have queued deliveries (a revocation's SET and logout tokens): the
  // delivery task of this process starts on them now, after the commit, not at its next turn.
  http.addHook('onResponse', async (request, reply) => {
    if (worker && request.method !== 'GET' && reply.statusCode < 400) worker.wake('deliver-outbox');
  });
  return {
    http,
    fastPath,
    core,
    database,
    services,
    tasks,
    bootstrap: () => bootstrapFirstAdmin(core, config.bootstrap, bootstrapHooks(core)),
    async runWorkerOnce() {
      for (const task of tasks) await task.run(UNBOUNDED);
    },
    async listen() {
      const address = await http.listen({ host: config.host, port: config.port });
      const bootstrap = await bootstrapFirstAdmin(core, config.bootstrap, bootstrapHooks(core));
      if (config.runWorker) worker = startWorker(tasks, { log: http.log });
      return { address, bootstrap };
    },
    async close() {
      await worker?.stop();
      await http.close();
      await composition.close();
    },
  };
}
