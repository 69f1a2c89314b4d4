import type { AuditActor } from '../../http/actor.ts';
import type { SignalInitiator } from '../event-payload/signal-payload.types.ts';
import type { AccessSignal } from '../signals/signals.types.ts';
import { hasStarted } from './activation.ts';
import type { RequestEventType } from './request-events.ts';
import type { RequestRow } from './requests.repo.ts';
import type { RequestSnapshot } from './snapshot.ts';

/** The lifecycle events after which the requester's claims for the grant's application differ. */
const CLAIMS_EVENTS: Partial<Record<RequestEventType, string>> = {
  activated: 'opened',
  extended: 'was extended',
  expired: 'expired',
  revoked: 'was revoked',
};

const initiatorOf = (actor: AuditActor, request: RequestRow): SignalInitiator =>
  actor === 'system' ? 'system' : actor.userId === request.requester_id ? 'user' : 'admin';

/**
 * The `claims_changed` signals of a batch of lifecycle events (DESIGN "Reach of an ending"):
 * one per event that changes the requester's claims for the grant's application (its
 * snapshot's): `activated` (straight after approval, by the worker for a scheduled grant,
 * break-glass), `extended`, `expired`, `revoked`. Approving a scheduled grant (`approved`
 * alone) is not; nor is extending or revoking a grant whose window has not opened (it never
 * was in a token). A revocation ended the application's provider grants too
 * (transitions.ts endAccess), so it says `grantEnded`. The recorder merges one batch's
 * signals per (user, application).
 */
export function claimsSignalsOf(events: readonly { type: RequestEventType; actor: AuditActor; request: RequestRow; data?: Record<string, unknown> }[], now: number): AccessSignal[] {
  const signals: AccessSignal[] = [];
  for (const { type, actor, request, data } of events) {
    const what = CLAIMS_EVENTS[type];
    if (!what) continue;
    if ((type === 'extended' || type === 'revoked') && !hasStarted(request, now)) continue;
    const app = (JSON.parse(request.snapshot) as RequestSnapshot).app.id;
    const why = type === 'revoked' && typeof data?.reason === 'string' && data.reason ? `: ${data.reason}` : '';
    signals.push({
      type: 'claims_changed',
      userId: request.requester_id,
      appId: app,
      reason: `the grant of access request ${request.id} ${what}${why}`,
      initiator: initiatorOf(actor, request),
      ...(type === 'revoked' ? { grantEnded: true } : {}),
    });
  }
  return signals;
}
