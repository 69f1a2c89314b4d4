/**
 * Where the live feed has read the outbox up to. Outbox ids are UUIDv7: time-ordered
 * to the millisecond, random within it. A transaction may also commit an event whose
 * id is a little older than one already read. So every poll reads again from a short
 * look-back window before the newest id seen, and drops the ids it has seen before.
 */
export const LOOKBACK_MS = 10_000;

/** The smallest UUIDv7 of a millisecond, as a lower bound for `id > ?`. */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** The millisecond a UUIDv7 was made at. */
export function msOfUuidv7(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

export class OutboxCursor {
  private readonly seen = new Map<string, number>();
  private newestMs: number;
  private readonly lookbackMs: number;

  constructor(startMs: number, lookbackMs = LOOKBACK_MS) {
    this.newestMs = startMs;
    this.lookbackMs = lookbackMs;
  }

  /**
   * Read ids greater than this. The window hangs below the newest id seen, or below
   * now if the clock has gone back (tests), so nothing committed late is skipped.
   */
  lowerBound(nowMs: number): string {
    return uuidv7Floor(this.floorMs(nowMs));
  }

  /** Keeps the rows not delivered before and remembers them; forgets ids older than the window. */
  accept<T extends { id: string }>(rows: readonly T[], nowMs: number): T[] {
    const fresh: T[] = [];
    for (const row of rows) {
      if (this.seen.has(row.id)) continue;
      const ms = msOfUuidv7(row.id);
      this.seen.set(row.id, ms);
      if (ms > this.newestMs) this.newestMs = ms;
      fresh.push(row);
    }
    const floor = this.floorMs(nowMs);
    for (const [id, ms] of this.seen) if (ms < floor) this.seen.delete(id);
    return fresh;
  }

  private floorMs(nowMs: number): number {
    return Math.min(this.newestMs, nowMs) - this.lookbackMs;
  }
}
