import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/database.ts';
import { effectiveClaimsOfUsers } from '../claims/claims.repo.ts';
import type { ClaimsScope, ClaimsWatch } from '../groups/claims-watch.types.ts';
import { memberIdsOf } from '../groups/memberships.repo.ts';
import { appIdsFedBy } from '../mappings/mappings.repo.ts';
import type { AccessSignal, SignalRecorder } from './signals.types.ts';

/** Claims as a comparable string: keys sorted, list values sorted (their order carries nothing). */
export function claimsKey(claims: Readonly<Record<string, unknown>>): string {
  const sorted = Object.keys(claims)
    .sort()
    .map((k) => {
      const v = claims[k];
      return [k, Array.isArray(v) ? [...(v as unknown[])].map((x) => JSON.stringify(x)).sort() : v];
    });
  return JSON.stringify(sorted);
}

/**
 * The claims watch the groups, mappings and applications services call around a change
 * (groups/claims-watch.types.ts). `before` reads, in the change's transaction, the effective
 * claims of every (user, application) in scope at one instant and holds the transaction's
 * signals (so grants the change revokes, recorded by the requests module meanwhile, merge
 * with these); `changed` reads them again at the same instant and records `claims_changed`
 * for each pair whose claims differ, then flushes. The rule: the claim names and values
 * that hold now are compared, not their expiry, so a membership whose expiry alone moved,
 * or a group feeding no application, records nothing.
 */
export function createClaimsWatch(clock: Clock, recorder: SignalRecorder): ClaimsWatch {
  // Per application, the claims of every user in scope: one query per 500 users (claims.repo.ts).
  const snapshot = async (trx: Tx, users: readonly string[], apps: readonly string[], at: number) => {
    const out = new Map<string, string>();
    for (const appId of apps) for (const [userId, claims] of await effectiveClaimsOfUsers(trx, users, appId, at)) out.set(`${userId}|${appId}`, claimsKey(claims.claims));
    return out;
  };
  return {
    async before(trx: Tx, scope: ClaimsScope) {
      const at = clock.now();
      const apps = scope.appIds ? [...new Set(scope.appIds)] : await appIdsFedBy(trx, scope.groupIds);
      const users = apps.length === 0 ? [] : scope.userIds ? [...new Set(scope.userIds)] : await memberIdsOf(trx, scope.groupIds);
      const was = await snapshot(trx, users, apps, at);
      recorder.hold(trx);
      return {
        async changed(reason, initiator) {
          const now = await snapshot(trx, users, apps, at);
          const signals: AccessSignal[] = users.flatMap((userId) =>
            apps.filter((appId) => now.get(`${userId}|${appId}`) !== was.get(`${userId}|${appId}`)).map((appId) => ({ type: 'claims_changed' as const, userId, appId, reason, initiator })),
          );
          await recorder(trx, signals);
          await recorder.flush(trx);
        },
      };
    },
  };
}

/**
 * The recorder, reached through `get` at run time: compose.ts builds the recorder after the
 * services whose paths call it (its sinks come last), so those get this forwarder.
 */
export function lateRecorder(get: () => SignalRecorder): SignalRecorder {
  return Object.assign((trx: Tx, signals: readonly AccessSignal[]) => get()(trx, signals), {
    hold: (trx: Tx) => get().hold(trx),
    flush: (trx: Tx) => get().flush(trx),
  });
}
