import type { Core } from '../../core.ts';
import type { DeliveryChannel } from '../../db/schema.ts';
import { createDeliveriesRepo, type DeliveryRow } from '../deliveries/deliveries.repo.ts';

export interface LeaseSettings {
  /** Per channel: how long a claim holds without renewal (the channel's own time limit plus a margin). */
  leaseMs: Record<DeliveryChannel, number>;
  /** Real time between renewals; well below the shortest lease. */
  renewEveryMs: number;
}

/** Extends the leases of the given running deliveries from now; one statement per channel. */
async function renewLeases(core: Pick<Core, 'db' | 'clock'>, settings: LeaseSettings, inFlight: ReadonlyMap<string, DeliveryRow>): Promise<void> {
  const now = core.clock.now();
  const rows = [...inFlight.values()];
  for (const channel of new Set(rows.map((d) => d.channel))) {
    const ids = rows.filter((d) => d.channel === channel).map((d) => d.id);
    await createDeliveriesRepo(core.db).renewLeases(ids, now + settings.leaseMs[channel]);
  }
}

/**
 * Keeps renewing the leases of the deliveries `inFlight` holds (the caller adds and
 * removes them), so a slow receiver or a script still waiting for a sandbox worker is
 * never taken for abandoned by another worker. A crash stops the renewals, and the lease
 * runs out. Returns the function that stops renewing.
 */
export function keepLeases(core: Pick<Core, 'db' | 'clock'>, settings: LeaseSettings, inFlight: ReadonlyMap<string, DeliveryRow>): () => Promise<void> {
  let renewing: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight.size === 0) return;
    renewing ??= renewLeases(core, settings, inFlight)
      .catch(() => undefined) // a missed renewal is retried at the next interval; the lease has slack
      .finally(() => (renewing = undefined));
  }, settings.renewEveryMs);
  return async () => {
    clearInterval(timer);
    await renewing;
  };
}
