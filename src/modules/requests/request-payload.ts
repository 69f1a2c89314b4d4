import type { Core } from '../../core.ts';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../security/ids.ts';
import type { AuditActor } from '../../http/actor.ts';
import type { EventPayload, PersonRef, RequestEventName } from '../event-payload/event-payload.types.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import type { RequestRow } from './requests.repo.ts';
import type { RequestSnapshot } from './snapshot.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Id, email and name of users read beforehand for a batch of events; a user missing from it is read. */
export type People = ReadonlyMap<string, PersonRef>;

async function person(db: Executor, id: string, people?: People): Promise<PersonRef> {
  const user = people?.get(id) ?? (await createUsersRepo(db).personOf(id));
  return user ?? { id, email: '', name: '(deleted user)' };
}

/** The people a batch of events names, read in one statement. */
export async function peopleOf(db: Executor, ids: readonly string[]): Promise<People> {
  if (ids.length === 0) return new Map();
  const rows = await createUsersRepo(db).peopleOf([...new Set(ids)]);
  return new Map(rows.map((r) => [r.id, { id: r.id, email: r.email, name: r.name }]));
}

/** Freezes what consumers of the event will see, from the request as it stands after the change. */
export async function buildEventPayload(
  core: Pick<Core, 'clock' | 'baseUrl'>,
  db: Executor,
  event: { type: RequestEventName; request: RequestRow; actor: AuditActor; data: Record<string, unknown> },
  people?: People,
): Promise<EventPayload> {
  const r = event.request;
  const snapshot = JSON.parse(r.snapshot) as RequestSnapshot;
  const actor = event.actor === 'system' ? null : await person(db, event.actor.userId, people);
  return {
    id: newId(core.clock),
    type: event.type,
    occurred_at: new Date(core.clock.now()).toISOString(),
    actor: actor ? { type: 'user', id: actor.id, email: actor.email, name: actor.name } : { type: 'system', id: null, email: null, name: null },
    request: {
      id: r.id,
      status: r.status,
      url: `${core.baseUrl}/requests/${r.id}`,
      template_id: r.template_id,
      template_name: snapshot.template_name,
      app: snapshot.app,
      requester: await person(db, r.requester_id, people),
      duration_mins: r.duration_mins,
      justification: r.justification,
      fields: JSON.parse(r.fields) as Record<string, string | boolean>,
      grants: snapshot.mappings,
      approved_at: iso(r.approved_at),
      expires_at: iso(r.expires_at),
      starts_at: iso(r.starts_at ?? r.approved_at),
      decision_comment: r.decision_comment,
      end_reason: r.end_reason,
      revoke_reason: r.revoke_reason,
      escalated: r.escalated === 1,
    },
    data: event.data,
  };
}
