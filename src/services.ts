import type { Config } from './config.ts';
import type { Core } from './core.ts';
import { onDeadLetter } from './modules/events/dead-letter.ts';
import { createDispatcher } from './modules/events/dispatcher.ts';
import { createPerformers } from './modules/events/performers.ts';
import { createMailer, SMTP_TIMEOUT_MS } from './modules/notifications/email.ts';
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
import type { DeliveryChannel } from './db/schema.ts';

/** A run of the delivery task keeps claiming for this long (real time), then finishes what is in flight and yields to its next run. */
const DELIVERY_BUDGET_MS = 30_000;

/** Services shared by the HTTP server and the standalone worker, and what they hold open. */
export function createServices(core: Core, config: Config, encrypter: Encrypter) {
  const scripts = createScriptsService(core, { encrypter, config });
  const mailer = createMailer(config.smtp);
  const leaseMs = deliveryLeases(config);
  const provisioning = createProvisioning(core, { runTrigger: scripts.runScript, deadlineMs: config.scripts.timeoutMs + 30_000, queueAllowanceMs: 10 * 60_000 });
  const requests = createRequestsService(core, { submissionsPerMinute: config.requestsPerMinute }, provisioning);
  const views = createRequestViews(core);
  const discussion = createDiscussionService(core, views);
  const dispatcher = createDispatcher(core, {
    performers: createPerformers({ core, encrypter, mailer, fetch: safeFetch, outbound: config.outbound, runScript: scripts.runScript }),
    onDeadLetter: (trx, delivery, payload) => onDeadLetter(core, trx, delivery, payload),
    leaseMs,
    renewEveryMs: Math.floor(Math.min(...Object.values(leaseMs)) / 3),
    concurrency: config.delivery.concurrency,
    scriptCapacity: scripts.freeCapacity,
    scriptWorkers: config.scripts.workers,
    maxAttempts: config.delivery.maxAttempts,
    backoff: { baseMs: config.delivery.retryBaseMs, capMs: config.delivery.retryMaxMs },
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

/**
 * How long a delivery's claim holds, per channel: the channel's own time limit plus a
 * margin. A crashed worker's delivery is sent again after that (docs/events.md).
 */
export function deliveryLeases(config: Pick<Config, 'outbound' | 'scripts' | 'delivery'>): Record<DeliveryChannel, number> {
  const margin = config.delivery.leaseMarginMs;
  const http = config.outbound.timeoutMs + margin;
  const script = config.scripts.timeoutMs + margin;
  return { webhook: http, slack: http, email: SMTP_TIMEOUT_MS + margin, script, trigger: script };
}

/**
 * The worker's due work: independent tasks, each on its own schedule, so a delivery
 * backlog never delays expiry, returning stuck provisioning, escalation or notices.
 */
export function workerTasks(core: Core, services: Services, config: Pick<Config, 'workerIntervalMs' | 'worker' | 'loginThrottle'>): WorkerTask[] {
  const fast = { everyMs: config.worker.expiryIntervalMs, budgetMs: 10_000 };
  const slow = { everyMs: config.workerIntervalMs, budgetMs: 10_000 };
  return [
    { name: 'expire-grants', ...fast, run: () => services.requests.expireDueGrants() },
    { name: 'return-stuck-provisioning', ...fast, run: () => services.provisioning.returnStuck() },
    { name: 'escalate-requests', ...slow, run: () => escalateOverdueRequests(core) },
    { name: 'announce-expiring-grants', ...slow, run: () => announceExpiringGrants(core, services.expiringSoonMs) },
    {
      name: 'deliver-outbox',
      everyMs: config.worker.deliveryIntervalMs,
      budgetMs: DELIVERY_BUDGET_MS,
      run: (budget) => services.dispatcher.deliverWhileDue(budget),
    },
    { name: 'purge-expired-state', ...slow, run: (budget) => purgeExpiredState(core, { budget, throttleWindowMs: config.loginThrottle.windowMs }) },
  ];
}
