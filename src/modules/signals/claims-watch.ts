import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/database.ts';
import { effectiveClaims } from '../claims/claims.repo.ts';
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
  const snapshot = async (trx: Tx, pairs: readonly (readonly [string, string])[], at: number) => {
    const out: string[] = [];
    for (const [userId, appId] of pairs) out.push(claimsKey((await effectiveClaims(trx, userId, appId, at)).claims));
    return out;
  };
  return {
    async before(trx: Tx, scope: ClaimsScope) {
      const at = clock.now();
      const apps = scope.appIds ? [...new Set(scope.appIds)] : await appIdsFedBy(trx, scope.groupIds);
      const users = apps.length === 0 ? [] : scope.userIds ? [...new Set(scope.userIds)] : await memberIdsOf(trx, scope.groupIds);
      const pairs = users.flatMap((u) => apps.map((a) => [u, a] as const));
      const was = await snapshot(trx, pairs, at);
      recorder.hold(trx);
      return {
        async changed(reason, initiator) {
          const now = await snapshot(trx, pairs, at);
          const signals: AccessSignal[] = pairs
            .filter((_, i) => now[i] !== was[i])
            .map(([userId, appId]) => ({ type: 'claims_changed', userId, appId, reason, initiator }));
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
