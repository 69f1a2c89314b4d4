import type { Executor } from '../../db/database.ts';
import type { MfaPendingPurpose, MfaPendingTable } from '../../db/schema.ts';

export type PendingRow = MfaPendingTable;

/**
 * The short-lived, one-time state of enrolment and sign-in (mfa_pending). A row is used by
 * `take`, a conditional delete: of two concurrent uses exactly one gets the row, and a use
 * whose transaction rolls back (a wrong code) leaves it for the next try.
 */
export function createPendingRepo(db: Executor) {
  return {
    /** Stores a row, replacing one with the same id (a user restarting an enrolment). */
    put: (row: PendingRow) =>
      db
        .insertInto('mfa_pending')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet({ user_id: row.user_id, challenge: row.challenge, secret: row.secret, data: row.data, expires_at: row.expires_at, purpose: row.purpose }))
        .execute(),

    /** The live row, without using it (to find a pending sign-in's throttle key before the attempt is reserved). */
    peek: (id: string, purpose: MfaPendingPurpose, now: number) =>
      db.selectFrom('mfa_pending').selectAll().where('id', '=', id).where('purpose', '=', purpose).where('expires_at', '>', now).executeTakeFirst(),

    /** Uses the live row once: deleted and returned, or undefined when it is gone, expired or someone else's. */
    take: (id: string, purpose: MfaPendingPurpose, now: number, userId?: string) => {
      let q = db.deleteFrom('mfa_pending').where('id', '=', id).where('purpose', '=', purpose).where('expires_at', '>', now);
      if (userId !== undefined) q = q.where('user_id', '=', userId);
      return q.returningAll().executeTakeFirst();
    },

    /** Everything pending for a user ends (their factors were reset). */
    deleteForUser: (userId: string) => db.deleteFrom('mfa_pending').where('user_id', '=', userId).execute(),

    /** Deletes up to `chunk` expired rows; returns how many went. */
    purgeExpired: async (now: number, chunk: number): Promise<number> => {
      const result = await db
        .deleteFrom('mfa_pending')
        .where('id', 'in', (eb) => eb.selectFrom('mfa_pending as p').select('p.id').where('p.expires_at', '<=', now).limit(chunk))
        .executeTakeFirstOrThrow();
      return Number(result.numDeletedRows);
    },
  };
}
