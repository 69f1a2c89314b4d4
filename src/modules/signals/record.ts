import type { Clock } from '../../clock.ts';
import { effectiveClaimsOfUsers } from '../claims/claims.repo.ts';
import type { EffectiveClaims } from '../claims/index.ts';
import { createDeliveriesRepo, type NewDelivery } from '../deliveries/deliveries.repo.ts';
import type { SignalPayload } from '../event-payload/signal-payload.types.ts';
import { insertSignalEvents } from '../events/index.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { newId } from '../../security/ids.ts';
import type { Tx } from '../../db/database.ts';
import { signalTypeOf, type AccessSignal, type SignalRecorder, type SignalSink } from './signals.types.ts';

/**
 * The one writer of signals (signals.types.ts). Facts of one call that say the same thing
 * (same type, user and application) become one outbox row, so a path that touches one
 * user's access twice in a transaction tells each receiver once. A `claims_changed` row
 * carries the claims that hold after the change, read in the same transaction.
 */
export function createSignalRecorder(clock: Clock, sinks: readonly SignalSink[]): SignalRecorder {
  // The transactions whose signals wait for their path's last change (SignalRecorder.hold).
  const held = new WeakMap<Tx, { depth: number; signals: AccessSignal[] }>();
  const record = async (trx: Tx, signals: readonly AccessSignal[]) => {
    const waiting = held.get(trx);
    if (waiting) {
      waiting.signals.push(...signals);
      return;
    }
    const merged = mergeSignals(signals);
    if (merged.length === 0) return;
    const now = clock.now();
    const people = new Map((await createUsersRepo(trx).peopleOf([...new Set(merged.map((s) => s.userId))])).map((p) => [p.id, p.email]));
    // The claims that now hold, one query per application (and 500 users), not one per signal.
    const claimsNow = new Map<string, EffectiveClaims>();
    const usersOfApp = new Map<string, string[]>();
    for (const s of merged) {
      if (s.type !== 'claims_changed') continue;
      const users = usersOfApp.get(s.appId);
      if (users) users.push(s.userId);
      else usersOfApp.set(s.appId, [s.userId]);
    }
    for (const [appId, userIds] of usersOfApp) for (const [userId, claims] of await effectiveClaimsOfUsers(trx, userIds, appId, now)) claimsNow.set(`${userId}|${appId}`, claims);
    const payloads: SignalPayload[] = [];
    for (const signal of merged) {
      const email = ('email' in signal && signal.email) || people.get(signal.userId);
      if (email === undefined) throw new Error(`signal ${signal.type} for an unknown user ${signal.userId}`);
      const claimsChanged = signal.type === 'claims_changed';
      payloads.push({
        id: newId(clock),
        type: signalTypeOf(signal),
        occurred_at: new Date(now).toISOString(),
        subject: { user_id: signal.userId, email },
        reason: signal.reason,
        initiator: signal.initiator,
        app_id: claimsChanged ? signal.appId : null,
        claims: claimsChanged ? { ...claimsNow.get(`${signal.userId}|${signal.appId}`)!.claims } : null,
        grant_ended: claimsChanged && signal.grantEnded === true,
        sessions: signal.type === 'sessions_ended' ? signal.sessions : [],
      });
    }
    await insertSignalEvents(trx, payloads);
    // Each sink once for them all, then one multi-row insert of every delivery.
    const bySink: NewDelivery[][][] = [];
    for (const sink of sinks) bySink.push(await sink.deliveriesFor(trx, payloads));
    const events = payloads.map((payload, i) => ({ event: { id: payload.id, request: null }, deliveries: bySink.flatMap((lists) => lists[i] ?? []) }));
    await createDeliveriesRepo(trx).enqueueMany(clock, events.filter((e) => e.deliveries.length > 0));
  };
  return Object.assign(record, {
    hold(trx: Tx) {
      const waiting = held.get(trx);
      if (waiting) waiting.depth++;
      else held.set(trx, { depth: 1, signals: [] });
    },
    async flush(trx: Tx) {
      const waiting = held.get(trx);
      if (!waiting || --waiting.depth > 0) return;
      held.delete(trx);
      await record(trx, waiting.signals);
    },
  });
}

/** One signal per (type, user, application), in first-seen order; sessions and `grantEnded` are merged. */
export function mergeSignals(signals: readonly AccessSignal[]): AccessSignal[] {
  const byKey = new Map<string, AccessSignal>();
  for (const signal of signals) {
    const key = `${signal.type}|${signal.userId}|${signal.type === 'claims_changed' ? signal.appId : ''}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, signal.type === 'sessions_ended' ? { ...signal, sessions: [...signal.sessions] } : { ...signal });
    else if (seen.type === 'sessions_ended' && signal.type === 'sessions_ended') {
      for (const s of signal.sessions) if (!seen.sessions.some((t) => t.client_id === s.client_id && t.sid === s.sid)) seen.sessions.push(s);
    } else if (seen.type === 'claims_changed' && signal.type === 'claims_changed' && signal.grantEnded) seen.grantEnded = true;
  }
  return [...byKey.values()];
}
