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
}

/**
 * Appends under a lock on the single chain-head row: concurrent writers queue there,
 * so the chain can never fork (DESIGN: security basics).
 */
export function createAuditLog(deps: { dialect: DialectName; clock: Clock }): AuditLog {
  // The head as this transaction last wrote it: once a transaction holds the head's
  // lock, nobody else can move it, so later appends in it need not read it again.
  const heads = new WeakMap<Tx, { seq: number; hash: string }>();
  return {
    async append(trx, entry) {
      let head = heads.get(trx);
      if (!head) {
        await lockRow(trx, deps.dialect, 'audit_head', 'id', 1);
        head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
      }
      const fields: ChainedFields = {
        seq: Number(head.seq) + 1,
        id: newId(deps.clock),
        at: deps.clock.now(),
        actor_type: entry.actor === SYSTEM ? 'system' : 'user',
        actor_id: entry.actor === SYSTEM ? null : entry.actor.userId,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        request_id: entry.requestId ?? null,
        data: canonicalJson(entry.data ?? {}),
        prev_hash: head.hash,
      };
      const hash = chainHash(fields);
      await trx
        .insertInto('audit_events')
        .values({ ...fields, actor_type: fields.actor_type as 'user' | 'system', hash })
        .execute();
      await trx.updateTable('audit_head').set({ seq: fields.seq, hash }).where('id', '=', 1).execute();
      heads.set(trx, { seq: fields.seq, hash });
    },
  };
}
