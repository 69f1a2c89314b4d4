import type { Config } from './config.ts';
import type { Core } from './core.ts';
import { createRequestsService } from './modules/requests/requests.service.ts';
import { createRequestViews } from './modules/requests/requests.views.ts';
import { createDiscussionService } from './modules/requests/discussion.service.ts';
import { purgeExpiredState } from './worker/purge.ts';
import { announceExpiringGrants, escalateOverdueRequests } from './modules/requests/due-notices.ts';
import type { WorkerTask } from './worker/worker.ts';

/** Services shared by the HTTP server and the standalone worker. */
export function createServices(core: Core, config: Pick<Config, 'requestsPerMinute' | 'expiringSoonMs'>) {
  const requests = createRequestsService(core, { submissionsPerMinute: config.requestsPerMinute });
  const views = createRequestViews(core);
  const discussion = createDiscussionService(core, views);
  return { requests, views, discussion, expiringSoonMs: config.expiringSoonMs };
}
export type Services = ReturnType<typeof createServices>;

/** The worker's due work, in order: access ends first. */
export function workerTasks(core: Core, services: Services): WorkerTask[] {
  return [
    { name: 'expire-grants', run: () => services.requests.expireDueGrants() },
    { name: 'escalate-requests', run: () => escalateOverdueRequests(core) },
    { name: 'announce-expiring-grants', run: () => announceExpiringGrants(core, services.expiringSoonMs) },
    { name: 'purge-expired-state', run: () => purgeExpiredState(core) },
  ];
}
