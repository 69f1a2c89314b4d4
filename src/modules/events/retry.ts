/** The retry policy of outbox deliveries (settings INTERIM_DELIVERY_RETRY_BASE_MS and _MAX_MS). */
export interface RetryBackoff {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: RetryBackoff = { baseMs: 30_000, capMs: 60 * 60_000 };

/**
 * How long to wait before the next try after `attempts` failed ones: exponential
 * (by default 30 s, 1 min, 2 min, …, capped at an hour) with jitter, so receivers that
 * failed together are not all hit again at the same instant. `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, random: number, backoff: RetryBackoff = DEFAULT_BACKOFF): number {
  const exponential = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.5 + random / 2));
}
