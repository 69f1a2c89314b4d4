import type { Tx } from '../../db/database.ts';

/** Where the api-tokens module plugs in (it sits above users: a token belongs to a user). */
export interface BootstrapHooks {
  /** Gives the new admin the configured API token, in the transaction that created the admin. */
  issueBootstrapToken(trx: Tx, adminId: string, token: string, now: number): Promise<void>;
}
