const BASE_MS = 30_000;
const CAP_MS = 60 * 60_000;

/**
 * How long to wait before the next try after `attempts` failed ones: exponential
 * (30 s, 1 min, 2 min, …, capped at an hour) with jitter, so receivers that failed
 * together are not all hit again at the same instant. `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, random: number): number {
  const exponential = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.5 + random / 2));
}
