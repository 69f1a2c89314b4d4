import type { Config } from './config.ts';
import type { Core } from './core.ts';
import { onDeadLetter } from './modules/events/dead-letter.ts';
import { createDispatcher } from './modules/events/dispatcher.ts';
import { createPerformers } from './modules/events/performers.ts';
import { createMailer } from './modules/notifications/email.ts';
import { createDiscussionService } from './modules/requests/discussion.service.ts';
import { announceExpiringGrants, escalateOverdueRequests } from './modules/requests/due-notices.ts';
import { createProvisioning } from './modules/requests/provisioning.ts';
import { createRequestsService } from './modules/requests/requests.service.ts';
import { createRequestViews } from './modules/requests/requests.views.ts';
import { createScriptsService } from './modules/scripts/scripts.service.ts';
import { safeFetch } from './net/safe-fetch.ts';
import type { Encrypter } from './security/encryption.ts';
import { purgeExpiredState } from './worker/purge.ts';
import type { WorkerTask } from './worker/worker.ts';

/** Deliveries claimed per pass; a tick runs passes until one finds nothing due. */
const DELIVERY_BATCH = 20;
const MAX_PASSES_PER_TICK = 50;

/** Services shared by the HTTP server and the standalone worker, and what they hold open. */
export function createServices(core: Core, config: Config, encrypter: Encrypter) {
  const scripts = createScriptsService(core, { encrypter, config });
  const mailer = createMailer(config.smtp);
  const provisioning = createProvisioning(core, { runTrigger: scripts.runScript, deadlineMs: config.scripts.timeoutMs + 30_000, queueAllowanceMs: 10 * 60_000 });
  const requests = createRequestsService(core, { submissionsPerMinute: config.requestsPerMinute }, provisioning);
  const views = createRequestViews(core);
  const discussion = createDiscussionService(core, views);
  const dispatcher = createDispatcher(core, {
    performers: createPerformers({ core, encrypter, mailer, fetch: safeFetch, outbound: config.outbound, runScript: scripts.runScript }),
    onDeadLetter: (trx, delivery, payload) => onDeadLetter(core, trx, delivery, payload),
    // Long enough for the slowest script run; a crashed worker's claim is retried after it.
    leaseMs: 2 * config.scripts.timeoutMs + 60_000,
    batchSize: DELIVERY_BATCH,
  });
  return {
    scripts,
    requests,
    views,
    discussion,
    provisioning,
    dispatcher,
    expiringSoonMs: config.expiringSoonMs,
    async close() {
      await scripts.close();
      mailer.close();
    },
  };
}
export type Services = ReturnType<typeof createServices>;

/** The worker's due work, in order: access ends first, then what it announces goes out. */
export function workerTasks(core: Core, services: Services): WorkerTask[] {
  return [
    { name: 'expire-grants', run: () => services.requests.expireDueGrants() },
    { name: 'return-stuck-provisioning', run: () => services.provisioning.returnStuck() },
    { name: 'escalate-requests', run: () => escalateOverdueRequests(core) },
    { name: 'announce-expiring-grants', run: () => announceExpiringGrants(core, services.expiringSoonMs) },
    {
      name: 'deliver-outbox',
      async run() {
        let total = 0;
        for (let pass = 0; pass < MAX_PASSES_PER_TICK; pass++) {
          const attempted = await services.dispatcher.deliverDue();
          total += attempted;
          if (attempted === 0) break;
        }
        return total;
      },
    },
    { name: 'purge-expired-state', run: () => purgeExpiredState(core) },
  ];
}
