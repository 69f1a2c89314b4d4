import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { createCore, type Core } from './core.ts';
import { openDatabase, type Database } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import type { DeliveryChannel } from './db/schema.ts';
import { createApiTokenPolicyService } from './modules/api-tokens/api-tokens.policy.ts';
import { createApiTokensService } from './modules/api-tokens/api-tokens.service.ts';
import { createApplicationsService } from './modules/applications/applications.service.ts';
import { mappingsHooks } from './modules/applications/mappings-hooks.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import type { AuditDirectory } from './modules/audit/audit.types.ts';
import { apiTokenNamesQuery } from './modules/api-tokens/api-tokens.repo.ts';
import { applicationNamesQuery } from './modules/applications/applications.repo.ts';
import { deliveryNamesQuery } from './modules/deliveries/deliveries.repo.ts';
import { eventActionNamesQuery } from './modules/event-actions/event-actions.repo.ts';
import { groupNamesQuery } from './modules/groups/groups.repo.ts';
import { mappingNamesQuery } from './modules/mappings/mappings.repo.ts';
import { grantNamesOf, requestNamesQuery } from './modules/requests/requests.repo.ts';
import { resourceServerNamesQuery } from './modules/resource-servers/resource-servers.repo.ts';
import { scriptNamesQuery, scriptSecretNamesQuery } from './modules/scripts/scripts.repo.ts';
import { approverGroupIdsQuery, templateNamesQuery } from './modules/templates/templates.repo.ts';
import { activeAdminIdsQuery, activeUserIdsQuery, peopleWithDeletionQuery } from './modules/users/users.repo.ts';
import { createInsightsService } from './modules/insights/insights.service.ts';
import { createAuthService } from './modules/auth/auth.service.ts';
import { createDeliveriesService } from './modules/deliveries/deliveries.service.ts';
import { createEventActionsService } from './modules/event-actions/event-actions.service.ts';
import { onDeadLetter } from './modules/events/dead-letter.ts';
import { createDispatcher } from './modules/events/dispatcher.ts';
import { createPerformers } from './modules/events/performers.ts';
import { eventTypesQuery } from './modules/events/outbox.ts';
import { createGroupsService } from './modules/groups/groups.service.ts';
import { createMembershipsService, membershipUserHooks } from './modules/groups/memberships.service.ts';
import { liveMemberIdsQuery } from './modules/groups/memberships.repo.ts';
import { createMappingsService } from './modules/mappings/mappings.service.ts';
import { createSetupService } from './modules/setup/setup.service.ts';
import { createEnrolmentDue, createEnrolmentService, createMfaAdminService, createSecondFactors, createSignInPending, readMfaPolicy, relyingPartyOf, type CoveredUsers } from './modules/mfa/index.ts';
import { createStepUpService } from './modules/step-up/index.ts';
import { createSlackAppPerformer, createSlackClient, createSlackService, type CreateDecisionLink, type NeedsStepUp, type SlackDecisions } from './modules/slack/index.ts';
import { createMailer, SMTP_TIMEOUT_MS } from './modules/notifications/email.ts';
import { createNotificationsService } from './modules/notifications/notifications.service.ts';
import { activateDueGrants } from './modules/requests/activation.ts';
import { mappingRetirement, requestUserHooks, templateHooks } from './modules/requests/backing.ts';
import { requesterStateHooks } from './modules/requests/requester-state.ts';
import { createDiscussionService } from './modules/requests/discussion.service.ts';
import { announceExpiringGrants, escalateOverdueRequests } from './modules/requests/due-notices.ts';
import { createProvisioning } from './modules/requests/provisioning.ts';
import { createRequestsService } from './modules/requests/requests.service.ts';
import { createBreakGlassService } from './modules/requests/break-glass.ts';
import { lapseOverdueRequests } from './modules/requests/lapse.ts';
import { createRequestsRepo } from './modules/requests/requests.repo.ts';
import { createDecisionLinks, type DecisionLinks } from './modules/decision-links/index.ts';
import { createRequestViews } from './modules/requests/requests.views.ts';
import { createResourceServersService } from './modules/resource-servers/resource-servers.service.ts';
import { createScriptsService } from './modules/scripts/scripts.service.ts';
import { createSignalRecorder } from './modules/signals/record.ts';
import type { RecordSignals } from './modules/signals/signals.types.ts';
import { createClaimsWatch, lateRecorder } from './modules/signals/claims-watch.ts';
import { createBackchannelLogoutPerformer, createBackchannelLogoutSink, signOutSignal, userSignals } from './modules/backchannel-logout/index.ts';
import { createProviderKeys } from './oidc/provider-keys.ts';
import { OIDC_PREFIX } from './oidc/provider.ts';
import { createSsf } from './modules/ssf/index.ts';
import { ssfRelatesTo } from './modules/ssf/relates.ts';
import { createTemplatesService } from './modules/templates/templates.service.ts';
import { createTemplatesRepo } from './modules/templates/templates.repo.ts';
import { createUsersService, type UserHooks } from './modules/users/users.service.ts';
import { revokeUserAccess } from './modules/auth/revocation.ts';
import { safeFetch } from './net/safe-fetch.ts';
import { createOidcPayloadsRepo } from './oidc/payloads.repo.ts';
import { createEncrypter, type Encrypter } from './security/encryption.ts';
import { createPasswordHasher } from './security/passwords.ts';
import { resealLegacySecrets } from './security/reseal.ts';
import { purgeExpiredState } from './worker/purge.ts';
import type { WorkerTask } from './worker/worker.ts';

/** A run of the delivery task keeps claiming for this long (real time), then finishes what is in flight and yields to its next run. */
const DELIVERY_BUDGET_MS = 30_000;

/**
 * The composition root: config → database → every service (once) → the worker's tasks.
 * `interim serve` (buildApp) adds HTTP on top; `interim worker` runs only the tasks.
 */
export interface Composition {
  database: Database;
  core: Core;
  encrypter: Encrypter;
  services: Services;
  tasks: WorkerTask[];
  /** Closes what the services hold open (sandbox workers, SMTP), then the database. */
  close(): Promise<void>;
}

export async function compose(config: Config, options: { clock?: Clock } = {}): Promise<Composition> {
  const { database, core } = await openCore(config, options.clock ?? systemClock);
  const encrypter = createEncrypter(config.masterKey);
  await resealLegacySecrets(core.db, encrypter);
  const services = createServices(core, config, encrypter);
  return {
    database,
    core,
    encrypter,
    services,
    tasks: workerTasks(core, services, config),
    async close() {
      await services.close();
      await database.close();
    },
  };
}

/** The database, migrated, and the core every service shares. The one-shot CLI commands use this alone. */
export async function openCore(config: Config, clock: Clock): Promise<{ database: Database; core: Core }> {
  const database = openDatabase(config.database);
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return { database, core: createCore(database, clock, config.baseUrl, createPasswordHasher(config.passwords)) };
}

/**
 * What the users service calls up to (users sits below auth, groups and requests): ending a
 * user's access (auth's sessions and API tokens, src/oidc's sessions, grants and tokens), their grants and open requests when they are disabled or
 * deleted (requests) and, on deletion, their memberships (groups).
 */
export function userHooks(core: Core, recordSignals?: RecordSignals): UserHooks {
  return {
    async endAccess(trx, userId, keepSessionId) {
      const ended = await revokeUserAccess(trx, userId, keepSessionId);
      const sessions = await createOidcPayloadsRepo(trx).deleteAllOf(userId);
      return { ...ended, sessions };
    },
    // Issue 13: the signals of each user path, in its transaction (back-channel logout, SSF).
    accessChanged: async (trx, change) => recordSignals?.(trx, userSignals(change)),
    ...requestUserHooks(core),
    ...membershipUserHooks(),
  };
}

/** Who an MFA policy covers, from the owners' queries: every active user, or active admins and the live members of any template's approver groups. */
const mfaCoveredUsers: CoveredUsers = (db, policy, now) =>
  policy === 'everyone' ? activeUserIdsQuery(db) : activeAdminIdsQuery(db).union(liveMemberIdsQuery(db, approverGroupIdsQuery(db), now));

/** How the audit log names people and things (audit sits below every owner): each owner's name query. */
const auditDirectory: AuditDirectory = {
  people: peopleWithDeletionQuery,
  names: {
    group: groupNamesQuery,
    application: applicationNamesQuery,
    template: templateNamesQuery,
    access_request: requestNamesQuery,
    mapping: mappingNamesQuery,
    script: scriptNamesQuery,
    script_secret: scriptSecretNamesQuery,
    event_action: eventActionNamesQuery,
    resource_server: resourceServerNamesQuery,
    api_token: apiTokenNamesQuery,
    delivery: deliveryNamesQuery,
  },
};

/** Every service, built once, each after what it depends on. Routes and worker tasks get theirs from here. */
export function createServices(core: Core, config: Config, encrypter: Encrypter) {
  // Signals (issue 13): the recorder is built below, once its sinks exist; the paths built
  // before it call it through this forwarder, only later, when they run.
  const laterSignals = lateRecorder(() => recordSignals);
  const claimsWatch = createClaimsWatch(core.clock, laterSignals);
  const signalCore = { ...core, recordSignals: laterSignals };
  const users = createUsersService(core, userHooks(core, laterSignals));
  // Issue 15: one way to check a second factor, for sign-in, OIDC, step-up and device confirmation.
  const secondFactors = createSecondFactors({ clock: core.clock, encrypter, relyingParty: relyingPartyOf(config.baseUrl) });
  const stepUp = createStepUpService(core, secondFactors);
  // Who must enrol before anything else, kept in step with the MFA policy (users, templates and groups name who it covers).
  const enrolmentDue = createEnrolmentDue(mfaCoveredUsers, core.dialect);
  // Signing out of the portal ends the provider sessions: src/oidc's repo (oidc sits above auth).
  const auth = createAuthService(
    core,
    config,
    { signedOut: async (trx, userId) => recordSignals(trx, [signOutSignal(userId, await createOidcPayloadsRepo(trx).deleteSessionsOf(userId), 'portal')]) },
    { secondFactors, pending: createSignInPending({ clock: core.clock, secondFactors }), refreshEnrolmentDue: enrolmentDue.refreshUser },
  );
  const enrolment = createEnrolmentService(core, { encrypter, relyingParty: secondFactors.relyingParty, secondFactors, due: enrolmentDue, stepUp: stepUp.guard });
  // An admin's reset ends the user's access the way disabling does (users' revocation path), and tells the applications.
  const endAccess = userHooks(core, laterSignals).endAccess;
  const mfaAdmin = createMfaAdminService(core, {
    due: enrolmentDue,
    stepUp: stepUp.guard,
    async endAccess(trx, userId) {
      const ended = await endAccess(trx, userId);
      if (ended.sessions?.length) await recordSignals(trx, [{ type: 'sessions_ended', userId, reason: "An administrator reset the user's second factors", initiator: 'admin', sessions: ended.sessions }]);
      return ended;
    },
  });
  const audit = createAuditService(core, auditDirectory);
  const insights = createInsightsService(core);
  // Deleting a group asks the templates module (which sits above groups) which templates use it.
  const groups = createGroupsService(core, { templatesUsingGroup: (trx, groupId) => createTemplatesRepo(trx).listUsingGroup(groupId) }, claimsWatch);
  // A grant group is named by the request behind it: the requests module answers (it sits above groups).
  const memberships = createMembershipsService(core, claimsWatch, (requestIds) => grantNamesOf(core.db, requestIds));
  // Deleting a mapping or an application first asks the requests module (which sits above both)
  // whether a template still grants it, and ends the requests it backs.
  const retirement = mappingRetirement(signalCore);
  const applications = createApplicationsService(core, retirement, claimsWatch, { allowPrivate: config.outbound.allowPrivate });
  // A mapping writer locks its live application: the applications module's hook (mappings sits below applications).
  const mappings = createMappingsService(core, { ...mappingsHooks(core), ...retirement }, claimsWatch);
  const resourceServers = createResourceServersService(core);
  const apiTokens = createApiTokensService(core);
  const apiTokenPolicy = createApiTokenPolicyService(core);
  // Retiring a template ends the requests it backs: the requests module's hook (templates sits below requests).
  const templates = createTemplatesService(core, { ...templateHooks(signalCore), ...requesterStateHooks(core) });
  const notifications = createNotificationsService(core);
  const eventActions = createEventActionsService(core, { encrypter, allowPrivate: config.outbound.allowPrivate });
  // The deliveries module sits below events and requests: the event types and a request's status come through hooks.
  const deliveries = createDeliveriesService(core, { eventTypesQuery, requestStatus: (trx, id) => createRequestsRepo(trx).statusOf(id) });
  // A script a template runs cannot be deleted: the templates module answers (templates sits above scripts).
  const scripts = createScriptsService(core, { encrypter, config, templatesUsing: (trx, scriptId) => createTemplatesRepo(trx).listUsingScript(scriptId) });
  const mailer = createMailer(config.smtp);
  const leaseMs = deliveryLeases(config);
  const provisioning = createProvisioning(signalCore, { runTrigger: scripts.runScript, deadlineMs: config.scripts.timeoutMs + 30_000, queueAllowanceMs: 10 * 60_000 });
  // Step-up for decisions (issue 15): the step-up module's guard and the mfa module's factors, by shape (requests sits beside both).
  const decisionAssurance = { guard: stepUp.guard, hasFactor: secondFactors.hasFactor };
  const requests = createRequestsService(signalCore, { submissionsPerMinute: config.requestsPerMinute }, provisioning, decisionAssurance);
  const breakGlass = createBreakGlassService(signalCore, { submissionsPerMinute: config.requestsPerMinute }, decisionAssurance);
  const views = createRequestViews(core);
  // One-time decision links (issue 15): Slack and the CLI send approvers to the decision page with them.
  const decisionLinks = createDecisionLinks(core, { requests, hasFactor: secondFactors.hasFactor });
  const discussion = createDiscussionService(core, views);
  // Signals (issue 13): the sinks that turn them into deliveries (back-channel logout, and the
  // Shared Signals transmitter with its stream service), and their channels' performers.
  const issuer = `${core.baseUrl}${OIDC_PREFIX}`;
  const providerKeys = createProviderKeys(core, encrypter);
  const backchannelLogoutSink = createBackchannelLogoutSink({
    maxAttempts: config.delivery.maxAttempts,
    now: () => core.clock.now(),
    liveSessionsOf: (trx, userId, clientId, now) => createOidcPayloadsRepo(trx).liveSessionsOf(userId, clientId, now),
  });
  const ssf = createSsf({ core, encrypter, providerKeys, issuer, maxAttempts: config.delivery.maxAttempts, maxStreamsPerApp: config.ssf?.maxStreamsPerApp ?? 5, fetch: safeFetch, outbound: config.outbound, relatesTo: ssfRelatesTo(core), lockLiveApp: mappingsHooks(core).lockLiveApp });
  const recordSignals = createSignalRecorder(core.clock, [backchannelLogoutSink, ssf.sink]);
  // Issue 15 §2: the Slack app. Decisions from Slack go through the requests service like the portal's.
  const slackClient = createSlackClient({ apiUrl: config.slack?.apiUrl ?? 'https://slack.com/api', fetch: safeFetch, outbound: config.outbound });
  const slack = createSlackService(core, { encrypter, apiUrl: config.slack?.apiUrl ?? 'https://slack.com/api' });
  const slackDecisions: SlackDecisions = {
    decide: async (actor, id, decision, slackIdentity, within) => {
      const after = decision === 'approve' ? await requests.approve(actor, id, undefined, { slack: slackIdentity, within }) : await requests.deny(actor, id, undefined, { slack: slackIdentity, within });
      return { status: after.status, current_stage: after.current_stage };
    },
    stateOf: async (id) => {
      const row = await createRequestsRepo(core.db).findById(id);
      return row && { status: row.status, current_stage: row.current_stage };
    },
  };
  const dispatcher = createDispatcher(core, {
    performers: {
      ...createPerformers({ core, encrypter, mailer, fetch: safeFetch, outbound: config.outbound, runScript: scripts.runScript, slackApp: createSlackAppPerformer({ core, slack, client: slackClient }) }),
      backchannel_logout: createBackchannelLogoutPerformer({
        db: core.db,
        clock: core.clock,
        issuer,
        signer: (alg) => providerKeys.signer(alg),
        fetch: safeFetch,
        outbound: config.outbound,
      }),
      ssf: ssf.performer,
    },
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
    users,
    auth,
    secondFactors,
    enrolment,
    mfaAdmin,
    stepUp,
    setup: createSetupService(core),
    audit,
    insights,
    groups,
    memberships,
    applications,
    mappings,
    resourceServers,
    apiTokens,
    apiTokenPolicy,
    templates,
    notifications,
    eventActions,
    deliveries,
    scripts,
    requests,
    breakGlass,
    views,
    decisionLinks,
    discussion,
    provisioning,
    dispatcher,
    recordSignals,
    ssf: ssf.service,
    slack,
    slackClient,
    slackDecisions,
    slackStepUp: slackStepUp(core, decisionLinks),
    expiringSoonMs: config.expiringSoonMs,
    async close() {
      await scripts.close();
      mailer.close();
    },
  };
}
export type Services = ReturnType<typeof createServices>;

/**
 * What a Slack button press needs to know about step-up (DESIGN "Assurance": when the
 * approver's MFA policy or the template's step-up applies, Slack always goes through the
 * one-time decision page), and how it makes that page's link. Read at each press.
 */
function slackStepUp(core: Core, decisionLinks: Pick<DecisionLinks, 'create'>): { needsStepUp: NeedsStepUp; createDecisionLink: CreateDecisionLink } {
  return {
    // Every policy but "off" covers approvers (a Slack press is always an approver's).
    needsStepUp: async (requestId) => {
      if ((await readMfaPolicy(core.db)) !== 'off') return true;
      const request = await createRequestsRepo(core.db).findById(requestId);
      const template = request ? await createTemplatesRepo(core.db).findAnyById(request.template_id) : undefined;
      return template?.step_up_minutes != null;
    },
    createDecisionLink: async (input) => {
      const link = await decisionLinks.create(input);
      return { url: link.url, expires_at: new Date(link.expires_at).toISOString() };
    },
  };
}

/**
 * How long a delivery's claim holds, per channel: the channel's own time limit plus a
 * margin. A crashed worker's delivery is sent again after that (docs/events.md).
 */
export function deliveryLeases(config: Pick<Config, 'outbound' | 'scripts' | 'delivery'>): Record<DeliveryChannel, number> {
  const margin = config.delivery.leaseMarginMs;
  const http = config.outbound.timeoutMs + margin;
  const script = config.scripts.timeoutMs + margin;
  return { webhook: http, slack: http, backchannel_logout: http, ssf: http, email: SMTP_TIMEOUT_MS + margin, script, trigger: script };
}

/**
 * The worker's due work: independent tasks, each on its own schedule, so a delivery
 * backlog never delays expiry, returning stuck provisioning, escalation or notices.
 */
function workerTasks(
  core: Core,
  services: Pick<Services, 'requests' | 'provisioning' | 'dispatcher' | 'expiringSoonMs' | 'breakGlass' | 'recordSignals' | 'slack'>,
  config: Pick<Config, 'workerIntervalMs' | 'worker' | 'loginThrottle'>,
): WorkerTask[] {
  const fast = { everyMs: config.worker.expiryIntervalMs, budgetMs: 10_000 };
  const slow = { everyMs: config.workerIntervalMs, budgetMs: 10_000 };
  return [
    // Before expiry: a scheduled grant is announced (`activated`) before it can expire.
    // Both queue what applications are told (signals), so the delivery task starts at once.
    { name: 'activate-grants', ...fast, run: () => activateDueGrants({ ...core, recordSignals: services.recordSignals }), wakes: ['deliver-outbox'] },
    // Also as soon as the next grant ends, when that comes before its next turn.
    { name: 'expire-grants', ...fast, run: () => services.requests.expireDueGrants(), wakes: ['deliver-outbox'], dueInMs: () => services.requests.msUntilNextExpiry() },
    { name: 'return-stuck-provisioning', ...fast, run: () => services.provisioning.returnStuck() },
    { name: 'lapse-pending-requests', ...fast, run: () => lapseOverdueRequests(core) },
    { name: 'alert-overdue-break-glass-reviews', ...slow, run: () => services.breakGlass.alertOverdueReviews() },
    { name: 'escalate-requests', ...slow, run: () => escalateOverdueRequests(core) },
    { name: 'announce-expiring-grants', ...slow, run: () => announceExpiringGrants(core, services.expiringSoonMs) },
    {
      name: 'deliver-outbox',
      everyMs: config.worker.deliveryIntervalMs,
      budgetMs: DELIVERY_BUDGET_MS,
      run: (budget) => services.dispatcher.deliverWhileDue(budget),
    },
    { name: 'purge-expired-state', ...slow, run: (budget) => purgeExpiredState(core, { budget, throttleWindowMs: config.loginThrottle.windowMs }) },
    { name: 'purge-slack-link-tokens', ...slow, run: () => services.slack.purgeExpiredLinkTokens() },
  ];
}
