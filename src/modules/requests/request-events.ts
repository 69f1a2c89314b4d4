import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import type { AuditActor } from '../auth/actor.ts';

/** The lifecycle events of the one list shared by the audit, the outbox, trigger tasks and event actions. */
export type RequestEventType = 'submitted' | 'approved' | 'denied' | 'cancelled' | 'escalated' | 'expiring_soon' | 'expired' | 'revoked' | 'comment_added';

/**
 * Records a lifecycle event inside the transaction that caused it. Everything that
 * reacts to an event starts from here, so nothing is sent before the change commits.
 */
export async function recordRequestEvent(
  core: Pick<Core, 'audit'>,
  trx: Tx,
  event: { type: RequestEventType; requestId: string; actor: AuditActor; data?: Record<string, unknown> },
): Promise<void> {
  await core.audit.append(trx, {
    actor: event.actor,
    action: `access_request.${event.type}`,
    targetType: 'access_request',
    targetId: event.requestId,
    requestId: event.requestId,
    data: event.data,
  });
}
