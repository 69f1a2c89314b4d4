import type { Executor } from '../../db/database.ts';
import { USAGE_STALE_MS } from './usage.ts';

export interface GrantUsageRow {
  request_id: string;
  first_used_at: number | null;
  last_used_at: number | null;
}

/**
 * The usage facts of grants (table `grant_usage`, owned here because the claims read is
 * where a grant meets a token). Approval registers the grant's row (requests/grants.ts);
 * the token path updates it (src/oidc/account.ts); insights read it.
 */
export function createGrantUsageRepo(db: Executor) {
  return {
    /** The grant's empty usage row, written with the grant in the approving transaction. */
    register: (groupId: string, requestId: string) =>
      db.insertInto('grant_usage').values({ group_id: groupId, request_id: requestId, first_used_at: null, last_used_at: null }).execute(),

    /**
     * One token's use of these grants at `now`. Conditional on staleness, so of several
     * concurrent tokens one writes and the others find the row fresh (PostgreSQL re-checks
     * the condition after the row lock; SQLite runs one writer at a time), and the first use
     * is set once. Returns how many rows it wrote.
     */
    recordUse: async (groupIds: readonly string[], now: number): Promise<number> => {
      if (groupIds.length === 0) return 0;
      const result = await db
        .updateTable('grant_usage')
        .set((eb) => ({ first_used_at: eb.fn.coalesce('first_used_at', eb.val(now)), last_used_at: now }))
        .where('group_id', 'in', [...groupIds])
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', now - USAGE_STALE_MS)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** Usage of these requests' grants (insights). */
    ofRequests: async (requestIds: readonly string[]): Promise<GrantUsageRow[]> => {
      const out: GrantUsageRow[] = [];
      for (let i = 0; i < requestIds.length; i += 500) {
        const chunk = requestIds.slice(i, i + 500);
        out.push(...(await db.selectFrom('grant_usage').select(['request_id', 'first_used_at', 'last_used_at']).where('request_id', 'in', chunk).execute()));
      }
      return out;
    },
  };
}
