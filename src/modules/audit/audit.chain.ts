import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

export const GENESIS_HASH = 'genesis';

/** The fields covered by an audit row's hash: everything but the hash itself. */
export interface ChainedFields {
  seq: number;
  id: string;
  at: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  data: string;
  prev_hash: string;
}

export function chainHash(row: ChainedFields): string {
  return createHash('sha256').update(canonicalJson(row)).digest('hex');
}

export interface ChainProblem {
  seq: number;
  problem: 'hash_mismatch' | 'broken_link' | 'gap';
}

/**
 * Walks rows in seq order and reports the first row that does not follow from the one
 * before it. An edited row fails its own hash; a deleted row leaves a gap or a broken link.
 */
export function verifyChain(rows: Iterable<ChainedFields & { hash: string }>, start = { seq: 0, hash: GENESIS_HASH }): ChainProblem | { seq: number; hash: string } {
  let prev = start;
  for (const row of rows) {
    if (row.seq !== prev.seq + 1) return { seq: row.seq, problem: 'gap' };
    if (row.prev_hash !== prev.hash) return { seq: row.seq, problem: 'broken_link' };
    const { hash, ...fields } = row;
    if (chainHash(fields) !== hash) return { seq: row.seq, problem: 'hash_mismatch' };
    prev = { seq: row.seq, hash };
  }
  return prev;
}
