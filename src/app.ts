import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { createCore, type Core } from './core.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { registerAuth } from './http/auth.ts';
import { registerMetrics } from './http/metrics.ts';
import { openApiTransform, openApiTransformObject } from './http/openapi.ts';
import { registerProblemHandler } from './http/problem.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import type { HttpApp } from './http/types.ts';
import { apiTokensRoutes } from './modules/api-tokens/api-tokens.routes.ts';
import { applicationsRoutes } from './modules/applications/applications.routes.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import { groupsRoutes } from './modules/groups/groups.routes.ts';
import { templatesRoutes } from './modules/templates/templates.routes.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { bootstrapFirstAdmin, type BootstrapResult } from './modules/users/bootstrap.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import { createUsersService } from './modules/users/users.service.ts';
import { mountOidc } from './oidc/mount.ts';
import { resourceServersRoutes } from './modules/resource-servers/resource-servers.routes.ts';
import { createEncrypter } from './security/encryption.ts';
import { createPasswordHasher } from './security/passwords.ts';
import { resealLegacySecrets } from './security/reseal.ts';
import { startWorker, UNBOUNDED, type WorkerHandle } from './worker/worker.ts';
import { createServices, workerTasks, type Services } from './services.ts';
import { requestsRoutes } from './modules/requests/requests.routes.ts';
import { scriptsRoutes } from './modules/scripts/scripts.routes.ts';
import { notificationsRoutes } from './modules/notifications/notifications.routes.ts';
import { templateHooks } from './modules/requests/backing.ts';
import { eventActionsRoutes } from './modules/event-actions/event-actions.routes.ts';
import { deliveriesRoutes } from './modules/deliveries/deliveries.routes.ts';
import { registerPortal } from './http/portal.ts';
import { createLiveHub } from './modules/live/live.hub.ts';
import { liveRoutes } from './modules/live/live.routes.ts';

export interface App {
  http: FastifyInstance;
  core: Core;
  database: Database;
  services: Services;
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

/** The composition root: config → database → services → HTTP, OIDC and the worker. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const database = openDatabase(config.database);
  await migrateToLatest(database.db);
  const core = createCore(database, clock, config.baseUrl, createPasswordHasher(config.passwords));
  const encrypter = createEncrypter(config.masterKey);
  await resealLegacySecrets(core.db, encrypter);

  const http = Fastify({
    logger: options.logger ?? { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'] },
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
  });
  http.setValidatorCompiler(validatorCompiler);
  http.setSerializerCompiler(serializerCompiler);
  registerProblemHandler(http);
  registerSecurityHeaders(http);
  await http.register(cookie);
  await http.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Interim API', version: '1', description: 'Admin and self-service API of the Interim identity provider' },
      components: {
        securitySchemes: {
          apiToken: { type: 'http', scheme: 'bearer', description: 'An API token (interim token create, or POST /api/v1/api-tokens)' },
          session: { type: 'apiKey', in: 'cookie', name: '__Host-interim_session' },
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
  await http.register(swaggerUi, { routePrefix: '/api/v1/docs', uiConfig: { deepLinking: true } });
  registerAuth(http, { db: core.db, clock, sessionIdleMs: config.session.idleMs });
  registerMetrics(http);

  const users = createUsersService(core);
  const auth = createAuthService(core, config);
  const api = http.withTypeProvider<ZodTypeProvider>() as HttpApp;
  healthRoutes(api, { db: core.db });
  authRoutes(api, { auth, users, sessionAbsoluteMs: config.session.absoluteMs });
  usersRoutes(api, { users });
  groupsRoutes(api, core);
  applicationsRoutes(api, core);
  resourceServersRoutes(api, core);
  apiTokensRoutes(api, core);
  templatesRoutes(api, core, templateHooks(core));
  auditRoutes(api, { audit: createAuditService(core) });
  const services = createServices(core, config, encrypter);
  requestsRoutes(api, services);
  scriptsRoutes(api, { scripts: services.scripts });
  eventActionsRoutes(api, { core, encrypter, outbound: config.outbound });
  deliveriesRoutes(api, { core });
  notificationsRoutes(api, core);
  const live = createLiveHub(core, { pollMs: 1000, heartbeatMs: 15_000, sessionIdleMs: config.session.idleMs, maxPerUser: 10 }, http.log);
  http.addHook('preClose', async () => live.close());
  liveRoutes(api, { hub: live, retryMs: 3000 });
  api.get('/api/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => http.swagger());
  await mountOidc(http, { core, config, auth, encrypter });
  await registerPortal(http);

  const tasks = workerTasks(core, services, config);
  let worker: WorkerHandle | undefined;
  return {
    http,
    core,
    database,
    services,
    bootstrap: () => bootstrapFirstAdmin(core, config.bootstrap),
    async runWorkerOnce() {
      for (const task of tasks) await task.run(UNBOUNDED);
    },
    async listen() {
      const address = await http.listen({ host: config.host, port: config.port });
      const bootstrap = await bootstrapFirstAdmin(core, config.bootstrap);
      if (config.runWorker) worker = startWorker(tasks, { log: http.log });
      return { address, bootstrap };
    },
    async close() {
      await worker?.stop();
      await http.close();
      await services.close();
      await database.close();
    },
  };
}
