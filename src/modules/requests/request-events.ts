import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { AuditActor } from '../../http/actor.ts';
import { findMatchingActions } from '../event-actions/event-actions.repo.ts';
import type { RequestEventName } from '../events/event-payload.ts';
import { fanOut, type FanoutDeps, type MatchingAction } from '../events/fanout.ts';
import { buildEventPayload, insertOutboxEvent } from '../events/outbox.ts';
import { resolveApproverRecipients } from '../notifications/approver-recipients.ts';
import { createInAppNotifications, renderInApp } from '../notifications/in-app.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import type { Template } from '../templates/templates.types.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';

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
  | 'provisioning_reverted';

/**
 * Lookups that stay the same across the events of one batch, such as one expiry chunk
 * of 500 grants: the template and the matching event actions are read once, not per grant.
 */
export interface EventBatchCache {
  templates: Map<string, Template | undefined>;
  actions: Map<string, MatchingAction[]>;
}
export const newEventBatchCache = (): EventBatchCache => ({ templates: new Map(), actions: new Map() });

function fanoutDeps(core: Core, cache: EventBatchCache | undefined): FanoutDeps {
  return {
    approverRecipients: (trx, template, request, stage) => resolveApproverRecipients(trx, core.dialect, core.clock, template, request, stage),
    inAppNotify: async (trx, rows) => {
      await createInAppNotifications(trx, rows, core.clock);
    },
    inAppText: (payload, audience) => {
      const { title, body } = renderInApp(payload, audience);
      return { title, body };
    },
    matchingActions: async (trx, type, templateId) => {
      const key = `${type}|${templateId}`;
      const cached = cache?.actions.get(key);
      if (cached) return cached;
      const actions = await findMatchingActions(trx, type, templateId);
      cache?.actions.set(key, actions);
      return actions;
    },
  };
}

async function templateOf(trx: Tx, id: string, cache: EventBatchCache | undefined): Promise<Template | undefined> {
  if (cache?.templates.has(id)) return cache.templates.get(id);
  const template = await loadTemplateForRequest(trx, id, { includeDeleted: true });
  cache?.templates.set(id, template);
  return template;
}

/**
 * Records a lifecycle event inside the transaction that caused it: the audit event, the
 * outbox row with its stable id, in-app notifications, and the deliveries the dispatcher
 * sends after commit (email, event actions, the trigger task). Nothing leaves the
 * process before the change commits.
 */
export async function recordRequestEvent(
  core: Core,
  trx: Tx,
  event: { type: RequestEventType; requestId: string; actor: AuditActor; data?: Record<string, unknown>; request?: RequestRow },
  cache?: EventBatchCache,
): Promise<void> {
  const type = `access_request.${event.type}` as RequestEventName;
  const data = event.data ?? {};
  await core.audit.append(trx, { actor: event.actor, action: type, targetType: 'access_request', targetId: event.requestId, requestId: event.requestId, data });
  // The caller may pass the row as it just wrote it, saving a read on hot paths (expiry).
  const request = event.request ?? (await createRequestsRepo(trx).findById(event.requestId));
  const template = request && (await templateOf(trx, request.template_id, cache));
  if (!request || !template) throw new Error(`event ${type} for a missing request ${event.requestId}`);
  const payload = await buildEventPayload(core, trx, { type, request, actor: event.actor, data });
  await insertOutboxEvent(trx, payload);
  await fanOut(core, fanoutDeps(core, cache), trx, payload, request, template);
}
