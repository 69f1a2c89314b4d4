import type { Executor } from '../../db/database.ts';
import type { StepUpProofsTable } from '../../db/schema.ts';

export function createStepUpRepo(db: Executor) {
  return {
    insert: (row: StepUpProofsTable) => db.insertInto('step_up_proofs').values(row).execute(),
    find: (id: string) => db.selectFrom('step_up_proofs').selectAll().where('id', '=', id).executeTakeFirst(),
    /** Counts a failed check; the proof dies at `limit`. */
    async countFailure(id: string): Promise<void> {
      await db
        .updateTable('step_up_proofs')
        .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
        .where('id', '=', id)
        .execute();
    },
    /** Marks it verified once: of two concurrent checks, one wins. */
    async markVerified(id: string, at: number, method: string, factorId: string | null): Promise<boolean> {
      const result = await db.updateTable('step_up_proofs').set({ verified_at: at, method, factor_id: factorId }).where('id', '=', id).where('verified_at', 'is', null).executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    /** Spends it: only this user's, for this binding, verified no earlier than `verifiedSince`, never spent. */
    async spend(id: string, userId: string, bindingHash: string, verifiedSince: number, now: number) {
      return db
        .updateTable('step_up_proofs')
        .set({ used_at: now })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('binding_hash', '=', bindingHash)
        .where('used_at', 'is', null)
        .where('verified_at', '>=', verifiedSince)
        .returning(['id', 'method', 'verified_at'])
        .executeTakeFirst();
    },
    /** Proofs older than `before` are of no use any more. */
    async purgeOlderThan(before: number, chunk: number): Promise<number> {
      const ids = db.selectFrom('step_up_proofs').select('id').where('created_at', '<', before).limit(chunk);
      const result = await db.deleteFrom('step_up_proofs').where('id', 'in', ids).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
