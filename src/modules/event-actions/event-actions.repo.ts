import type { Selectable } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { matchesIgnoringCase } from '../../db/search.ts';
import type { EventActionsTable } from '../../db/schema.ts';
import type { Encrypter, SealedAt } from '../../security/encryption.ts';
import type { RequestEventName } from '../event-payload/event-payload.types.ts';
import { createScriptsRepo } from '../scripts/scripts.repo.ts';
import { createTemplatesRepo } from '../templates/templates.repo.ts';
import { LOUD_ACTION_KINDS, type ActionKind, type ActionTarget, type EventAction } from './event-actions.types.ts';

export type EventActionRow = Selectable<EventActionsTable>;

export function fromRow(row: EventActionRow): EventAction {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    event_types: JSON.parse(row.event_types) as RequestEventName[],
    template_id: row.template_id,
    ...({ kind: row.kind, config: JSON.parse(row.config) } as ActionTarget),
    secret_encrypted: row.secret_encrypted,
    created_at: row.created_at,
    updated_at: row.updated_at,
    deleted_at: row.deleted_at,
  };
}

function toRow(a: EventAction): EventActionRow {
  return {
    id: a.id,
    name: a.name,
    enabled: a.enabled ? 1 : 0,
    event_types: JSON.stringify(a.event_types),
    template_id: a.template_id,
    kind: a.kind,
    config: JSON.stringify(a.config),
    secret_encrypted: a.secret_encrypted,
    created_at: a.created_at,
    updated_at: a.updated_at,
    deleted_at: a.deleted_at,
  };
}

/** Event actions. Every read here ignores soft-deleted ones. */
export function createEventActionsRepo(db: Executor) {
  const live = () => db.selectFrom('event_actions').selectAll().where('deleted_at', 'is', null);
  return {
    findLiveById: async (id: string) => {
      const row = await live().where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    list: async (opts: { limit: number; cursor?: string; kind?: ActionKind; template_id?: string; enabled?: boolean; q?: string }) => {
      let q = live().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      const text = opts.q;
      // event_types is a JSON list of names: a part of a name is a part of that text.
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('name', text, 'contains'), matchesIgnoringCase('event_types', text, 'contains')]));
      if (opts.kind) q = q.where('kind', '=', opts.kind);
      if (opts.template_id) q = q.where('template_id', '=', opts.template_id);
      if (opts.enabled !== undefined) q = q.where('enabled', '=', opts.enabled ? 1 : 0);
      return (await q.execute()).map(fromRow);
    },

    insert: (a: EventAction) => db.insertInto('event_actions').values(toRow(a)).execute(),

    replace: (a: EventAction) => {
      const { id: _id, created_at: _created, ...row } = toRow(a);
      return db.updateTable('event_actions').set(row).where('id', '=', a.id).execute();
    },

    softDelete: (id: string, at: number) =>
      db.updateTable('event_actions').set({ deleted_at: at, updated_at: at }).where('id', '=', id).where('deleted_at', 'is', null).execute(),

    // What an action may point at, for validation.
    templateIsLive: (id: string) => createTemplatesRepo(db).isLive(id),
    scriptIsLive: (id: string) => createScriptsRepo(db).isLive(id),
  };
}
export type EventActionsRepo = ReturnType<typeof createEventActionsRepo>;

/**
 * For the outbox fan-out: the live, enabled actions that fire on `eventType` for a request
 * from `templateId` (rules for every template, and rules for that one), oldest first.
 * Event types are a JSON list; the LIKE only narrows the scan, the exact test is below.
 */
export async function findMatchingActions(executor: Executor, eventType: RequestEventName, templateId: string | null): Promise<EventAction[]> {
  const rows = await executor
    .selectFrom('event_actions')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('enabled', '=', 1)
    .where((eb) => (templateId === null ? eb('template_id', 'is', null) : eb.or([eb('template_id', 'is', null), eb('template_id', '=', templateId)])))
    .where('event_types', 'like', `%"${eventType}"%`)
    .orderBy('id')
    .execute();
  return rows.map(fromRow).filter((a) => a.event_types.includes(eventType));
}

/** For the dispatcher: a live action by id (enabled or not), or undefined once it is deleted. */
export async function findLiveActionById(executor: Executor, id: string): Promise<EventAction | undefined> {
  return createEventActionsRepo(executor).findLiveById(id);
}

/**
 * The action's secret in the clear: a webhook's `whsec_…` signing secret or a Slack
 * incoming-webhook URL; null for email and script actions. Never log the result.
 */
export function decryptActionSecret(encrypter: Pick<Encrypter, 'decrypt'>, action: Pick<EventAction, 'id' | 'secret_encrypted'>): string | null {
  return action.secret_encrypted === null ? null : encrypter.decrypt(action.secret_encrypted, actionSecretAt(action.id));
}

/** Where an action's secret is sealed: bound into its ciphertext, so it cannot be moved to another action. */
export function actionSecretAt(id: string): SealedAt {
  return { table: 'event_actions', column: 'secret_encrypted', row: id };
}

/**
 * For a break-glass alert (issue 12 §5): every live, enabled webhook and Slack (webhook or app) action whose
 * scope covers `templateId` (every template, or that one), whatever event types it lists,
 * so the alert reaches every channel an admin set up. Oldest first.
 */
export async function findLoudActions(executor: Executor, templateId: string): Promise<EventAction[]> {
  const rows = await executor
    .selectFrom('event_actions')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('enabled', '=', 1)
    .where('kind', 'in', [...LOUD_ACTION_KINDS])
    .where((eb) => eb.or([eb('template_id', 'is', null), eb('template_id', '=', templateId)]))
    .orderBy('id')
    .execute();
  return rows.map(fromRow);
}

/** Every event action's id and name, deleted ones included: the audit log's names. */
export const eventActionNamesQuery = (db: Executor) => db.selectFrom('event_actions').select(['id', 'name', 'deleted_at']);
