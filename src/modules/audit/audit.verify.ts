import type { Executor } from '../../db/database.ts';
import { GENESIS_HASH, verifyChain } from './audit.chain.ts';
import { createAuditRepo } from './audit.repo.ts';

export type VerifyResult =
  | { ok: true; seq: number; hash: string }
  | { ok: false; seq: number; problem: string };

const CHUNK = 1000;

/**
 * Re-hashes the whole chain in order. An edited row fails its hash; a deleted row breaks
 * the link or leaves a gap. A deleted tail is caught against the stored head row and,
 * stronger, against a head exported earlier (`expected`), which an attacker with database
 * access cannot rewrite.
 */
export async function verifyAuditChain(db: Executor, expected?: { seq: number; hash: string }): Promise<VerifyResult> {
  const repo = createAuditRepo(db);
  let last = { seq: 0, hash: GENESIS_HASH };
  for (;;) {
    const rows = await repo.chunkAfter({}, last.seq, CHUNK);
    if (rows.length === 0) break;
    const result = verifyChain(rows.map((r) => ({ ...r, seq: Number(r.seq) })), last);
    if ('problem' in result) return { ok: false, seq: result.seq, problem: result.problem };
    last = result;
  }
  const head = await repo.head();
  if (Number(head.seq) !== last.seq || head.hash !== last.hash) {
    return { ok: false, seq: last.seq, problem: `chain ends at ${last.seq} but the head row says ${head.seq}: rows were deleted from the end` };
  }
  if (expected) {
    if (last.seq < expected.seq) return { ok: false, seq: last.seq, problem: `chain ends at ${last.seq}, before the exported head ${expected.seq}` };
    const at = await db.selectFrom('audit_events').select('hash').where('seq', '=', expected.seq).executeTakeFirst();
    if (at?.hash !== expected.hash) return { ok: false, seq: expected.seq, problem: 'the row at the exported head has a different hash' };
  }
  return { ok: true, ...last };
}
