/** The one source of time. Modules never read the system time directly (DESIGN rule 4). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/**
 * Reads Date.now(). oidc-provider reads Date.now() too, so tests move both together
 * with vitest's fake Date instead of swapping this object.
 */
export const systemClock: Clock = { now: () => Date.now() };
