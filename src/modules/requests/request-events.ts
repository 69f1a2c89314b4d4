import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { AuditActor } from '../auth/actor.ts';
import { findMatchingActions } from '../event-actions/event-actions.repo.ts';
import type { RequestEventName } from '../events/event-payload.ts';
import { fanOut, type FanoutDeps } from '../events/fanout.ts';
import { buildEventPayload, insertOutboxEvent } from '../events/outbox.ts';
import { resolveApproverRecipients } from '../notifications/approver-recipients.ts';
import { createInAppNotifications, renderInApp } from '../notifications/in-app.ts';
import { loadTemplateForRequest } from '../templates/templates.repo.ts';
import { createRequestsRepo } from './requests.repo.ts';

/** The lifecycle events of the one list shared by the audit, the outbox, trigger tasks and event actions. */
export type RequestEventType = 'submitted' | 'approved' | 'denied' | 'cancelled' | 'escalated' | 'expiring_soon' | 'expired' | 'revoked' | 'comment_added';

function fanoutDeps(core: Core): FanoutDeps {
  return {
    approverRecipients: (trx, template, request, stage) => resolveApproverRecipients(trx, core.dialect, core.clock, template, request, stage),
    inAppNotify: async (trx, rows) => {
      await createInAppNotifications(trx, rows, core.clock);
    },
    inAppText: (payload, audience) => {
      const { title, body } = renderInApp(payload, audience);
      return { title, body };
    },
    matchingActions: (trx, type, templateId) => findMatchingActions(trx, type, templateId),
  };
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
  event: { type: RequestEventType; requestId: string; actor: AuditActor; data?: Record<string, unknown> },
): Promise<void> {
  const type = `access_request.${event.type}` as RequestEventName;
  const data = event.data ?? {};
  await core.audit.append(trx, { actor: event.actor, action: type, targetType: 'access_request', targetId: event.requestId, requestId: event.requestId, data });
  const request = await createRequestsRepo(trx).findById(event.requestId);
  const template = request && (await loadTemplateForRequest(trx, request.template_id, { includeDeleted: true }));
  if (!request || !template) throw new Error(`event ${type} for a missing request ${event.requestId}`);
  const payload = await buildEventPayload(core, trx, { type, request, actor: event.actor, data });
  await insertOutboxEvent(trx, payload);
  await fanOut(core, fanoutDeps(core), trx, payload, request, template);
}
