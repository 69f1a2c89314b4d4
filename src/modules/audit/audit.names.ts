import type { Executor } from '../../db/database.ts';
import type { AuditRow } from './audit.repo.ts';
import type { AuditActorOut, AuditDirectory, AuditTargetOut } from './audit.types.ts';

/** A thing that no longer exists (or never had a name here) keeps its id, marked. */
const goneName = (id: string) => `${id} (deleted)`;

/** The names of a page of events' actors and targets. */
export interface AuditNames {
  actorOf(row: AuditRow): AuditActorOut | null;
  targetOf(row: AuditRow): AuditTargetOut | null;
}

/**
 * Names the actors and targets of a page of events: one query for the people and one per
 * target type on the page, never one per row. Users who are deleted keep their email and name.
 */
export async function resolveNames(db: Executor, directory: AuditDirectory, rows: readonly AuditRow[]): Promise<AuditNames> {
  const idsOfType = new Map<string, Set<string>>();
  const people = new Set<string>();
  for (const row of rows) {
    if (row.actor_id) people.add(row.actor_id);
    if (!row.target_id) continue;
    if (row.target_type === 'user') people.add(row.target_id);
    else if (directory.names[row.target_type]) {
      const ids = idsOfType.get(row.target_type) ?? new Set<string>();
      ids.add(row.target_id);
      idsOfType.set(row.target_type, ids);
    }
  }
  const [personRows, ...named] = await Promise.all([
    people.size ? directory.people(db).where('id', 'in', [...people]).execute() : Promise.resolve([]),
    ...[...idsOfType].map(async ([type, ids]) => {
      const found = await db.selectFrom(directory.names[type]!(db).as('n')).selectAll().where('n.id', 'in', [...ids]).execute();
      return found.map((n) => ({ type, ...n }));
    }),
  ]);
  const personById = new Map(personRows.map((p) => [p.id, p]));
  const nameByKey = new Map(named.flat().map((n) => [`${n.type}:${n.id}`, n]));

  const person = (id: string): AuditActorOut => {
    const p = personById.get(id);
    return p ? { id, email: p.email, name: p.name, deleted: p.deleted_at !== null } : { id, email: '', name: goneName(id), deleted: true };
  };
  return {
    actorOf: (row) => (row.actor_id ? person(row.actor_id) : null),
    targetOf: (row) => {
      const id = row.target_id;
      if (!id) return null;
      if (row.target_type === 'user') {
        const p = person(id);
        return { type: 'user', id, name: p.email ? `${p.name} <${p.email}>` : p.name, deleted: p.deleted };
      }
      if (!directory.names[row.target_type]) return { type: row.target_type, id, name: id, deleted: false };
      const n = nameByKey.get(`${row.target_type}:${id}`);
      return n ? { type: row.target_type, id, name: n.name, deleted: n.deleted_at !== null } : { type: row.target_type, id, name: goneName(id), deleted: true };
    },
  };
}
