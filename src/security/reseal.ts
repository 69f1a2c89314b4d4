import type { Db } from '../db/database.ts';
import { isLegacySealed, type Encrypter, type SealedAt } from './encryption.ts';

/** Every column that holds values sealed with the master key, and its row key. */
const SEALED_COLUMNS = [
  { table: 'signing_keys', column: 'private_jwk_encrypted', key: 'kid' },
  { table: 'settings', column: 'value', key: 'key' },
  { table: 'event_actions', column: 'secret_encrypted', key: 'id' },
  { table: 'script_secrets', column: 'value_encrypted', key: 'id' },
] as const;

/**
 * Rewrites values sealed in the v1 format (no associated data, so they could be moved
 * between rows) as v2, bound to their table, column and row. Runs at start-up; each
 * update is conditional on the old value, so instances starting together, or a write
 * in between, lose nothing. A value that does not decrypt is left alone: reading it
 * fails later with the usual "wrong master key" error.
 */
export async function resealLegacySecrets(db: Db, encrypter: Encrypter): Promise<number> {
  let resealed = 0;
  for (const { table, column, key } of SEALED_COLUMNS) {
    // Kysely's table types do not line up across these four tables; the names are the constants above.
    const rows = (await db
      .selectFrom(table as 'settings')
      .select([`${key} as row` as 'key', `${column} as sealed` as 'value'])
      .where(column as 'value', 'like', 'v1.%')
      .execute()) as unknown as { row: string; sealed: string }[];
    for (const { row, sealed } of rows) {
      if (!isLegacySealed(sealed)) continue;
      const at: SealedAt = { table, column, row };
      let plaintext: string;
      try {
        plaintext = encrypter.decrypt(sealed, at);
      } catch {
        continue;
      }
      const result = await db
        .updateTable(table as 'settings')
        .set({ [column]: encrypter.encrypt(plaintext, at) } as { value: string })
        .where(key as 'key', '=', row)
        .where(column as 'value', '=', sealed)
        .executeTakeFirst();
      resealed += Number(result.numUpdatedRows);
    }
  }
  return resealed;
}
