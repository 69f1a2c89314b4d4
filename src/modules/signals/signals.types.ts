import type { Tx } from '../../db/database.ts';
import type { NewDelivery } from '../deliveries/deliveries.repo.ts';
import type { EndedSessionRef, SignalInitiator, SignalPayload, SignalType } from '../event-payload/signal-payload.types.ts';

/** A fact a path that changes or ends access reports, in its own transaction (see signal-payload.types.ts). */
export type AccessSignal =
  | { type: 'claims_changed'; userId: string; appId: string; reason: string; initiator: SignalInitiator; grantEnded?: boolean }
  | { type: 'sessions_ended'; userId: string; reason: string; initiator: SignalInitiator; sessions: EndedSessionRef[]; email?: string }
  | {
      type: 'credential_changed' | 'account_disabled' | 'account_enabled' | 'account_purged';
      userId: string;
      reason: string;
      initiator: SignalInitiator;
      /** Needed when the user row is already gone in this transaction (purge). */
      email?: string;
    };

export const signalTypeOf = (signal: AccessSignal): SignalType => `signal.${signal.type}`;

/**
 * Records signals in the caller's transaction: one outbox row each (identical facts of one
 * call merged), then each sink's deliveries. Wired once in compose.ts and handed to the
 * modules whose changes end or alter access, as a hook.
 */
export type RecordSignals = (trx: Tx, signals: readonly AccessSignal[]) => Promise<void>;

/**
 * A consumer of signals: back-channel logout or the SSF transmitter. Given the signals one
 * call recorded (an expiry chunk's are many), in their transaction, it answers the
 * deliveries to queue for each, in their order (its own channel, target and ordering key);
 * it may read its own tables to find who is interested, once for them all.
 */
export interface SignalSink {
  deliveriesFor(trx: Tx, payloads: readonly SignalPayload[]): Promise<NewDelivery[][]>;
}

/**
 * The recorder compose.ts builds: RecordSignals, plus a hold for a
 * path that makes several changes in one transaction (deleting a mapping revokes its grants
 * and then drops its links). While `trx` is held, its signals wait; the outermost `flush`
 * records them in one call, merged, so each (user, application) is told once, with the
 * claims that hold after every change. Holds nest.
 */
export type SignalRecorder = RecordSignals & {
  hold(trx: Tx): void;
  flush(trx: Tx): Promise<void>;
};
