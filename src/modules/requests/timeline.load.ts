import type { Executor } from '../../db/database.ts';
import { createAuditRepo } from '../audit/audit.repo.ts';
import { noticeDeliveriesOfRequests } from '../deliveries/deliveries.repo.ts';
import { outboxEventsOfRequests } from '../events/index.ts';
import { inAppNoticesOfEvents } from '../notifications/notifications.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import { buildTimeline, type NoticeFact, type Person, type TimelineEntry } from './timeline.ts';

/** An e-mail delivery's target is `<audience>:<address>` (events/fanout.ts). */
const addressOf = (target: string) => target.slice(target.indexOf(':') + 1);

/**
 * Loads the stored facts of a request's story through their owners' surfaces (audit events,
 * outbox events, in-app notifications, e-mail and Slack deliveries, of the request and its
 * extension requests) and hands them to the pure buildTimeline. The caller has checked that
 * the actor may see the request.
 */
export async function loadTimeline(db: Executor, request: Pick<RequestRow, 'id' | 'parent_id'>): Promise<TimelineEntry[]> {
  const requestId = request.id;
  const ids = [requestId, ...(await createRequestsRepo(db).extensionIdsOf(requestId))];
  const [own, outbox, deliveries, parentRows] = await Promise.all([
    createAuditRepo(db).ofRequests(ids),
    outboxEventsOfRequests(db, ids),
    noticeDeliveriesOfRequests(db, ids),
    request.parent_id ? createAuditRepo(db).ofRequests([request.parent_id]) : Promise.resolve([]),
  ]);
  const inApp = await inAppNoticesOfEvents(db, outbox.map((e) => e.id));
  // An extension request's approval is recorded on its grant (`extended`, naming the extension): it belongs in this story too.
  const grantedHere = parentRows
    .filter((r) => r.action === 'access_request.extended' && (JSON.parse(r.data) as { extension_id?: unknown }).extension_id === requestId)
    .map((r) => ({ ...r, request_id: requestId }));
  const auditRows = [...own, ...grantedHere];
  const notices: NoticeFact[] = [
    ...inApp.map((n) => ({ event_id: n.event_id, channel: 'in_app' as const, user_id: n.user_id })),
    ...deliveries.map((d) => (d.channel === 'email' ? { event_id: d.event_id, channel: 'email' as const, address: addressOf(d.target) } : { event_id: d.event_id, channel: 'slack' as const })),
  ];
  const personIds = new Set<string>(inApp.map((n) => n.user_id));
  for (const row of auditRows) if (row.actor_id) personIds.add(row.actor_id);
  const people = personIds.size ? await createUsersRepo(db).peopleOf([...personIds]) : [];
  return buildTimeline({
    requestId,
    audit: auditRows.map((r) => ({ seq: Number(r.seq), at: Number(r.at), actor_id: r.actor_type === 'user' ? r.actor_id : null, action: r.action, request_id: r.request_id!, data: JSON.parse(r.data) as Record<string, unknown> })),
    outbox,
    notices,
    people: new Map<string, Person>(people.map((p) => [p.id, p])),
  });
}
