import type { Executor } from '../../db/database.ts';

/** Enrolment's and admin reset's writes to a user's factors and recovery codes (factors.repo.ts holds the checks' writes). */
export function createManageRepo(db: Executor) {
  return {
    factorOf: (userId: string, id: string) => db.selectFrom('mfa_factors').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst(),
    countFactors: async (userId: string): Promise<number> => {
      const row = await db.selectFrom('mfa_factors').select((eb) => eb.fn.countAll<string | number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    rename: async (userId: string, id: string, name: string): Promise<boolean> => {
      const result = await db.updateTable('mfa_factors').set({ name }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    deleteFactor: async (userId: string, id: string): Promise<boolean> => {
      const result = await db.deleteFrom('mfa_factors').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return result.numDeletedRows === 1n;
    },
    deleteAllFactors: async (userId: string): Promise<number> => Number((await db.deleteFrom('mfa_factors').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows),

    insertRecoveryCodes: (rows: { id: string; user_id: string; code_hash: string; created_at: number }[]) => db.insertInto('mfa_recovery_codes').values(rows).execute(),
    deleteRecoveryCodes: async (userId: string): Promise<number> => Number((await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).executeTakeFirst()).numDeletedRows),
    countRecoveryCodes: async (userId: string): Promise<number> => {
      const row = await db.selectFrom('mfa_recovery_codes').select((eb) => eb.fn.countAll<string | number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
