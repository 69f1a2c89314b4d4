import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { AuditEventsTable } from '../../db/schema.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import type { AuditDirectory } from './audit.types.ts';

export type AuditRow = Selectable<AuditEventsTable>;

export interface AuditFilter {
  requestId?: string;
  actorId?: string;
  /** The start of the action, any case: `access_request.` finds every request event. */
  action?: string;
  targetId?: string;
  /** Part of the action, of the actor's email or name, or of the target's name, any case (needs the directory). */
  text?: string;
  from?: number;
  to?: number;
}

/** `directory` names people and things for the text search; without it, `text` is not searched. */
export function createAuditRepo(db: Executor, directory?: AuditDirectory) {
  function filtered(f: AuditFilter) {
    let q = db.selectFrom('audit_events').selectAll();
    const text = f.text;
    if (text && directory) {
      // Subqueries of the owners' name queries: the page stays one statement.
      const people = db
        .selectFrom(directory.people(db).as('p'))
        .select('p.id')
        .where((w) => w.or([matchesIgnoringCase('p.email', text, 'contains'), matchesIgnoringCase('p.name', text, 'contains')]));
      const named = Object.entries(directory.names).map(([type, query]) => ({
        type,
        ids: db.selectFrom(query(db).as('n')).select('n.id').where(matchesIgnoringCase('n.name', text, 'contains')),
      }));
      q = q.where((eb) =>
        eb.or([
          matchesIgnoringCase('action', text, 'contains'),
          eb('actor_id', 'in', people),
          eb.and([eb('target_type', '=', 'user'), eb('target_id', 'in', people)]),
          ...named.map(({ type, ids }) => eb.and([eb('target_type', '=', type), eb('target_id', 'in', ids)])),
        ]),
      );
    }
    if (f.requestId) q = q.where('request_id', '=', f.requestId);
    if (f.actorId) q = q.where('actor_id', '=', f.actorId);
    if (f.action) q = q.where(matchesIgnoringCase('action', f.action, 'starts'));
    if (f.targetId) q = q.where('target_id', '=', f.targetId);
    if (f.from !== undefined) q = q.where('at', '>=', f.from);
    if (f.to !== undefined) q = q.where('at', '<', f.to);
    return q;
  }
  return {
    /** Newest first; `beforeSeq` is the cursor. */
    list: (f: AuditFilter, page: { limit: number; beforeSeq?: number }) => {
      let q = filtered(f).orderBy('seq', 'desc').limit(page.limit + 1);
      if (page.beforeSeq !== undefined) q = q.where('seq', '<', page.beforeSeq);
      return q.execute();
    },
    /** Oldest first from `afterSeq`, for export and verification. */
    chunkAfter: (f: AuditFilter, afterSeq: number, size: number) =>
      filtered(f).where('seq', '>', afterSeq).orderBy('seq', 'asc').limit(size).execute(),
    /** Every event of one access request, oldest first: its timeline. */
    ofRequest: (requestId: string) => db.selectFrom('audit_events').selectAll().where('request_id', '=', requestId).orderBy('seq', 'asc').execute(),
    /** Every event of several requests (a grant and its extension requests), oldest first. */
    ofRequests: (requestIds: readonly string[]) =>
      requestIds.length ? db.selectFrom('audit_events').selectAll().where('request_id', 'in', [...requestIds]).orderBy('seq', 'asc').execute() : Promise.resolve([]),
    head: () => db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow(),
  };
}
