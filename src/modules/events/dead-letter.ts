import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { SYSTEM } from '../../http/actor.ts';
import { createInAppNotifications } from '../notifications/index.ts';
import type { DeliveryRow } from '../deliveries/deliveries.repo.ts';
import { isSignalPayload, type OutboxPayload } from '../event-payload/signal-payload.types.ts';
import { createUsersRepo } from '../users/users.repo.ts';

/** Events that undo access elsewhere: when one gives up, someone must act by hand. */
const REVOCATION_SIDE = new Set(['access_request.expired', 'access_request.revoked']);
/** Channels that can act on another system; an email or Slack notice undoes nothing, so its failure is no alarm. */
const ACTING_CHANNELS = new Set(['webhook', 'script', 'trigger']);

/**
 * Records a dead-lettered delivery in the audit trail and, when a webhook, script or
 * trigger task carrying an expiry or revocation gave up, alerts every active admin in the
 * app: access granted in an external system may still be there.
 */
export async function onDeadLetter(core: Pick<Core, 'audit' | 'clock'>, trx: Tx, delivery: DeliveryRow, payload: OutboxPayload): Promise<void> {
  const revocationSide = REVOCATION_SIDE.has(payload.type) && ACTING_CHANNELS.has(delivery.channel);
  await core.audit.append(trx, {
    actor: SYSTEM,
    action: 'delivery.dead_lettered',
    targetType: 'delivery',
    targetId: delivery.id,
    requestId: delivery.request_id,
    data: { event_id: delivery.event_id, event_type: payload.type, channel: delivery.channel, attempts: delivery.attempts, error: delivery.last_error, revocation_side: revocationSide },
  });
  if (!revocationSide || isSignalPayload(payload)) return;
  const admins = await createUsersRepo(trx).activeAdminIds();
  await createInAppNotifications(
    trx,
    admins.map((userId) => ({
      userId,
      eventId: delivery.id,
      requestId: delivery.request_id,
      kind: 'delivery.dead_lettered',
      title: `Undoing access failed: ${payload.request.template_name} for ${payload.request.requester.email}`,
      body:
        `The ${delivery.channel} delivery of ${payload.type} gave up after ${delivery.attempts} attempts` +
        `${delivery.last_error ? `: ${delivery.last_error}` : ''}. Access granted outside Interim may still be in place; ` +
        'check the target system, then retry the delivery from the deliveries page.',
    })),
    core.clock,
  );
}
