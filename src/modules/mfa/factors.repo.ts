import type { Executor } from '../../db/database.ts';
import type { FactorKind, MfaFactorsTable } from '../../db/schema.ts';

export type FactorRow = MfaFactorsTable;

/** The mfa module's rows. Every write that spends something (a TOTP step, a recovery code, a counter) is conditional. */
export function createFactorsRepo(db: Executor) {
  return {
    listOf: (userId: string, kind?: FactorKind) => {
      let q = db.selectFrom('mfa_factors').selectAll().where('user_id', '=', userId);
      if (kind) q = q.where('kind', '=', kind);
      return q.orderBy('created_at').orderBy('id').execute();
    },
    async hasAny(userId: string): Promise<boolean> {
      return (await db.selectFrom('mfa_factors').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst()) !== undefined;
    },
    byId: (id: string) => db.selectFrom('mfa_factors').selectAll().where('id', '=', id).executeTakeFirst(),
    byCredentialId: (credentialId: string) => db.selectFrom('mfa_factors').selectAll().where('kind', '=', 'webauthn').where('credential_id', '=', credentialId).executeTakeFirst(),
    insert: (row: FactorRow) => db.insertInto('mfa_factors').values(row).execute(),
    /** Accepts a TOTP step only if it is later than the last one accepted: a code works once. */
    async spendTotpStep(id: string, step: number, now: number): Promise<boolean> {
      const result = await db
        .updateTable('mfa_factors')
        .set({ totp_last_step: step, last_used_at: now })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    /** Moves the signature counter on from the value read; a concurrent use of the same assertion loses. */
    async advanceCounter(id: string, from: number, to: number, now: number): Promise<boolean> {
      const result = await db.updateTable('mfa_factors').set({ sign_count: to, last_used_at: now }).where('id', '=', id).where('sign_count', '=', from).executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    async spendRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
      const result = await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).where('code_hash', '=', codeHash).executeTakeFirst();
      return result.numDeletedRows === 1n;
    },
  };
}
