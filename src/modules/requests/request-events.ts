import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { AuditActor } from '../../http/actor.ts';
import { findMatchingActions } from '../event-actions/event-actions.repo.ts';
import type { EventPayload, RequestEventName } from '../event-payload/event-payload.types.ts';
import { insertOutboxEvents, planFanout, writeFanouts, type FanoutDeps, type FanoutPlan, type MatchingAction } from '../events/index.ts';
import { createInAppNotifications, renderInApp, resolveApproverRecipients } from '../notifications/index.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import type { SignalRecorder } from '../signals/signals.types.ts';
import { claimsSignalsOf } from './claims-signals.ts';
import { buildEventPayload, peopleOf } from './request-payload.ts';
import { breakGlassAlertFor } from './break-glass-alerts.ts';
import { stepUpAuditOf } from './decision-step-up.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import { stageView } from './stages.ts';

/** The lifecycle events of the one list shared by the audit, the outbox, trigger tasks and event actions. */
export type RequestEventType =
  | 'submitted'
  | 'approved'
  | 'denied'
  | 'cancelled'
  | 'escalated'
  | 'expiring_soon'
  | 'expired'
  | 'revoked'
  | 'comment_added'
  | 'provisioning_reverted'
  | 'lapsed'
  | 'break_glass_activated'
  | 'break_glass_reviewed'
  | 'break_glass_review_overdue'
  | 'stage_approved'
  | 'extension_requested'
  | 'extended'
  | 'extension_denied'
  | 'activated';

/**
 * Lookups that stay the same across the events of one batch, such as one expiry chunk
 * of 500 grants: the template and the matching event actions are read once, not per grant.
 */
export interface EventBatchCache {
  templates: Map<string, Template | undefined>;
  actions: Map<string, MatchingAction[]>;
}
export const newEventBatchCache = (): EventBatchCache => ({ templates: new Map(), actions: new Map() });

/**
 * What recording a request event reads of Core: the audit trail, the time, the dialect (the
 * round_robin turn's lock) and the public URL (the payload's link). Never the database
 * handle: everything runs in the caller's transaction.
 */
export type EventCore = Pick<Core, 'audit' | 'clock' | 'dialect' | 'baseUrl'> & {
  /** The `claims_changed` signals of activation, extension, expiry and revocation (claims-signals.ts); compose.ts passes it, absent means none. */
  recordSignals?: SignalRecorder;
};

/** What the requests module's services and tasks read of Core: the event's needs and the database (everything but the password hasher). */
export type RequestsCore = EventCore & Pick<Core, 'db'>;

function fanoutDeps(core: Pick<Core, 'clock'>): FanoutDeps {
  return {
    clock: core.clock,
    inAppNotify: async (trx, rows) => {
      await createInAppNotifications(trx, rows, core.clock);
    },
    inAppText: (payload, audience) => {
      const { title, body } = renderInApp(payload, audience);
      return { title, body };
    },
  };
}

async function matchingActions(trx: Tx, type: RequestEventName, templateId: string, cache: EventBatchCache | undefined): Promise<MatchingAction[]> {
  const key = `${type}|${templateId}`;
  const cached = cache?.actions.get(key);
  if (cached) return cached;
  const actions = await findMatchingActions(trx, type, templateId);
  cache?.actions.set(key, actions);
  return actions;
}

async function templateOf(trx: Tx, id: string, cache: EventBatchCache | undefined): Promise<Template | undefined> {
  if (cache?.templates.has(id)) return cache.templates.get(id);
  const template = await loadTemplateForRequest(trx, id, { includeDeleted: true });
  cache?.templates.set(id, template);
  return template;
}

/** One lifecycle event to record; `request` is the row as the caller just wrote it (saves a read). */
export interface RequestEventIn {
  type: RequestEventType;
  requestId: string;
  actor: AuditActor;
  data?: Record<string, unknown>;
  request?: RequestRow;
}

/**
 * Records a lifecycle event inside the transaction that caused it: the audit event, the
 * outbox row with its stable id, in-app notifications, and the deliveries the dispatcher
 * sends after commit (email, event actions, the trigger task). Nothing leaves the
 * process before the change commits.
 */
export async function recordRequestEvent(core: EventCore, trx: Tx, event: RequestEventIn, cache?: EventBatchCache): Promise<void> {
  await recordRequestEvents(core, trx, [event], cache);
}

/**
 * recordRequestEvent for several events of one transaction (an expiry chunk), in order:
 * the same rows, written with one audit append, one read of the people the payloads name,
 * and multi-row inserts of outbox events, notifications and deliveries.
 */
export async function recordRequestEvents(core: EventCore, trx: Tx, events: readonly RequestEventIn[], cache: EventBatchCache = newEventBatchCache()): Promise<void> {
  if (events.length === 0) return;
  const typeOf = (event: RequestEventIn) => `access_request.${event.type}` as RequestEventName;
  await core.audit.appendMany(
    trx,
    events.map((event) => ({ actor: event.actor, action: typeOf(event), targetType: 'access_request', targetId: event.requestId, requestId: event.requestId, data: { ...(event.data ?? {}), ...stepUpAuditOf(event.actor) } })),
  );
  const rows: { type: RequestEventName; event: RequestEventIn; request: RequestRow; template: Template }[] = [];
  for (const event of events) {
    const type = typeOf(event);
    // The caller may pass the row as it just wrote it, saving a read on hot paths (expiry).
    const request = event.request ?? (await createRequestsRepo(trx).findById(event.requestId));
    const template = request && (await templateOf(trx, request.template_id, cache));
    if (!request || !template) throw new Error(`event ${type} for a missing request ${event.requestId}`);
    rows.push({ type, event, request, template });
  }
  const people = await peopleOf(
    trx,
    rows.flatMap(({ event, request }) => (event.actor === 'system' ? [request.requester_id] : [event.actor.userId, request.requester_id])),
  );
  const payloads: EventPayload[] = [];
  for (const { type, event, request } of rows) payloads.push(await buildEventPayload(core, trx, { type, request, actor: event.actor, data: event.data ?? {} }, people));
  await insertOutboxEvents(trx, payloads);
  const fanouts: { payload: EventPayload; plan: FanoutPlan }[] = [];
  for (const [i, { type, request, template }] of rows.entries()) {
    const payload = payloads[i]!;
    // Who hears about it and what runs: the events module's pure plan, from what is read here.
    const asks = type === 'access_request.submitted' || type === 'access_request.stage_approved' || type === 'access_request.extension_requested';
    const stage = asks ? 'submitted' : type === 'access_request.escalated' ? 'escalated' : undefined;
    // The approvers asked are the current stage's (the one that just opened, or escalated).
    const stageTemplate = stageView(template, request.current_stage);
    const plan = planFanout({
      payload,
      request: { id: request.id, requester_id: request.requester_id, decided_by: request.decided_by, notifiedApproverIds: JSON.parse(request.notified_approver_ids) as string[] },
      template,
      approverRecipients: stage && (await resolveApproverRecipients(trx, core.dialect, core.clock, stageTemplate, request, stage)),
      actions: await matchingActions(trx, type, request.template_id, cache),
      ...(await breakGlassAlertFor(trx, core.clock, type, template).then((alert) => alert && { alertRecipients: alert.recipients, loudActions: alert.loudActions })),
    });
    if (plan.notifiedApproverIds) {
      const notified = JSON.stringify(plan.notifiedApproverIds);
      await createRequestsRepo(trx).setNotifiedApprovers(request.id, notified);
      request.notified_approver_ids = notified;
    }
    fanouts.push({ payload, plan });
  }
  await writeFanouts(fanoutDeps(core), trx, fanouts);
  await core.recordSignals?.(trx, claimsSignalsOf(rows.map(({ event, request }) => ({ ...event, request })), core.clock.now()));
}
