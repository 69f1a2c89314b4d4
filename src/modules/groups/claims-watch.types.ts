import type { Tx } from '../../db/database.ts';

/**
 * Who a change may give or take claims from (issue 13, `claims_changed` signals): these
 * users, or every member of `groupIds` when `userIds` is absent, in the applications
 * `groupIds` feed through mappings, or in `appIds` when given.
 */
export interface ClaimsScope {
  groupIds: readonly string[];
  userIds?: readonly string[];
  appIds?: readonly string[];
}

/** A watch opened before a change: `changed` records a signal for each (user, application) whose claims differ now. */
export interface ClaimsWatched {
  changed(reason: string, initiator: 'admin' | 'system'): Promise<void>;
}

/**
 * The hook the groups, mappings and applications services call around a change, in its
 * transaction: `before` notes the claims in scope (and holds the transaction's signals),
 * `changed` compares and records. The signals module provides it (wired in compose.ts);
 * these modules sit below it, so they hold only this type.
 */
export interface ClaimsWatch {
  before(trx: Tx, scope: ClaimsScope): Promise<ClaimsWatched>;
}

