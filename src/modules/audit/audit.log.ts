import type { Clock } from '../../clock.ts';
import type { DialectName, Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import { newId } from '../../security/ids.ts';
import { SYSTEM, type AuditActor } from '../../http/actor.ts';
import { canonicalJson } from './canonical-json.ts';
import { chainHash, type ChainedFields } from './audit.chain.ts';

export interface AuditEntry {
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId: string | null;
  requestId?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditLog {
  /** Appends inside the caller's transaction, so the event commits with the change it records. */
  append(trx: Tx, entry: AuditEntry): Promise<void>;
  /** Appends several events in order, with one head lock and one multi-row insert. */
  appendMany(trx: Tx, entries: readonly AuditEntry[]): Promise<void>;
  /**
   * Runs `work` in the transaction with its appends held back, then writes them all at its
   * end (one head lock, one insert): the chain head, which every writer queues on, is then
   * held only from that write to the commit, not for the whole transaction. Each event keeps
   * the id and time of its append and the order of the appends. If `work` throws, nothing is
   * written (the transaction rolls back anyway).
   */
  batched<T>(trx: Tx, work: () => Promise<T>): Promise<T>;
}

/** An event with its id and time fixed, not yet on the chain. */
type Pending = Omit<ChainedFields, 'seq' | 'prev_hash'>;

/** Multi-row inserts stay below SQLite's bound-parameter limit (12 columns a row). */
const INSERT_ROWS = 1000;

/**
 * Appends under a lock on the single chain-head row: concurrent writers queue there,
 * so the chain can never fork (DESIGN: security basics).
 */
export function createAuditLog(deps: { dialect: DialectName; clock: Clock }): AuditLog {
  // The head as this transaction last wrote it: once a transaction holds the head's
  // lock, nobody else can move it, so later appends in it need not read it again.
  const heads = new WeakMap<Tx, { seq: number; hash: string }>();
  // Appends held back by `batched`, per transaction.
  const held = new WeakMap<Tx, Pending[]>();

  const pending = (entry: AuditEntry): Pending => ({
    id: newId(deps.clock),
    at: deps.clock.now(),
    actor_type: entry.actor === SYSTEM ? 'system' : 'user',
    actor_id: entry.actor === SYSTEM ? null : entry.actor.userId,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    request_id: entry.requestId ?? null,
    data: canonicalJson(entry.data ?? {}),
  });

  async function write(trx: Tx, events: readonly Pending[]): Promise<void> {
    if (events.length === 0) return;
    let head = heads.get(trx);
    if (!head) {
      await lockRow(trx, deps.dialect, 'audit_head', 'id', 1);
      const row = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
      head = { seq: Number(row.seq), hash: row.hash };
    }
    const rows = [];
    for (const event of events) {
      const fields: ChainedFields = { seq: head.seq + 1, ...event, prev_hash: head.hash };
      const hash = chainHash(fields);
      rows.push({ ...fields, actor_type: fields.actor_type as 'user' | 'system', hash });
      head = { seq: fields.seq, hash };
    }
    for (let i = 0; i < rows.length; i += INSERT_ROWS) await trx.insertInto('audit_events').values(rows.slice(i, i + INSERT_ROWS)).execute();
    await trx.updateTable('audit_head').set({ seq: head.seq, hash: head.hash }).where('id', '=', 1).execute();
    heads.set(trx, head);
  }

  return {
    async append(trx, entry) {
      const queue = held.get(trx);
      if (queue) queue.push(pending(entry));
      else await write(trx, [pending(entry)]);
    },
    async appendMany(trx, entries) {
      const events = entries.map(pending);
      const queue = held.get(trx);
      if (queue) queue.push(...events);
      else await write(trx, events);
    },
    async batched(trx, work) {
      if (held.has(trx)) return work(); // already inside a batch: its end writes these too
      const queue: Pending[] = [];
      held.set(trx, queue);
      try {
        const result = await work();
        held.delete(trx);
        await write(trx, queue);
        return result;
      } finally {
        held.delete(trx);
      }
    },
  };
}
