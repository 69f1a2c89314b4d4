/**
 * One way to show time across the portal: relative words ("in 12 min", "3 h ago") with
 * the absolute time and its zone on hover, in the user's time zone.
 *
 * "Now" is the server's now: the session answer carries `server_time`, and the offset
 * from this browser's clock is kept, so a skewed laptop clock never says "in 5 min" for
 * something that happened. The zone is the user's setting, else the browser's.
 */
let offsetMs = 0;
let preferredZone: string | null = null;
const listeners = new Set<() => void>();

export function setServerTime(iso: string): void {
  const server = Date.parse(iso);
  if (Number.isFinite(server)) offsetMs = server - Date.now();
}

/** The server's current time, in ms since the epoch, as this browser best knows it. */
export const serverNow = (): number => Date.now() + offsetMs;

export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Null or an unknown zone falls back to the browser's. */
export function setPreferredTimeZone(zone: string | null | undefined): void {
  const next = zone && isTimeZone(zone) ? zone : null;
  if (next === preferredZone) return;
  preferredZone = next;
  listeners.forEach((l) => l());
}

export const currentTimeZone = (): string => preferredZone ?? browserTimeZone();

export function onTimeZoneChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** "4 Dec 2026, 14:05 CET": what the hover shows, and what lists show past a week. */
export function formatAbsolute(iso: string, zone = currentTimeZone(), locale?: string): string {
  // dateStyle/timeStyle cannot be combined with timeZoneName, hence the separate parts.
  // `locale`: the browser's when absent; tests pin one.
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: zone, timeZoneName: 'short' }).format(new Date(iso));
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/**
 * "just now", "in 12 min", "3 h ago", "in 2 days"; past a week the absolute date.
 * Hours under three keep their minutes ("2 h 5 min ago"), where the difference matters.
 */
export function formatRelative(iso: string, now = serverNow(), zone = currentTimeZone(), locale?: string): string {
  const delta = Date.parse(iso) - now;
  const abs = Math.abs(delta);
  if (abs < 45_000) return 'just now';
  let words: string;
  // Whole minutes first, so 59 min 40 s reads "1 h", never "60 min", and 2 h 59 min 40 s "3 h", never "2 h 60 min".
  const mins = Math.round(abs / MIN);
  if (mins < 60) words = `${Math.max(1, mins)} min`;
  else if (mins < 3 * 60) {
    const h = Math.floor(mins / 60);
    const m = mins % 60;
    words = m ? `${h} h ${m} min` : `${h} h`;
  } else if (abs < DAY) words = `${Math.round(abs / HOUR)} h`;
  else if (abs < 7 * DAY) {
    const d = Math.round(abs / DAY);
    words = `${d} day${d === 1 ? '' : 's'}`;
  } else return formatAbsolute(iso, zone, locale);
  return delta > 0 ? `in ${words}` : `${words} ago`;
}

/** The wall-clock fields of `ms` in `zone`, read back as if they were UTC: the zone's offset is the difference. */
const wallClocks = new Map<string, Intl.DateTimeFormat>();
function wallClockAsUtc(ms: number, zone: string): number {
  let format = wallClocks.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    wallClocks.set(zone, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
}

/** "2026-05-01T09:30" for `ms` in `zone`: what <input type="datetime-local"> shows, in the user's zone rather than the browser's. */
export function toZonedInput(ms: number, zone = currentTimeZone()): string {
  return new Date(wallClockAsUtc(ms, zone)).toISOString().slice(0, 16);
}

/**
 * The instant a wall-clock time ("2026-05-01T09:30") names in `zone`, in ms; NaN when it is not
 * one. A time the clocks skip (going forward) moves on by the gap ("02:30" → 03:30); a time they
 * repeat (going back) is its second occurrence.
 */
export function fromZonedInput(local: string, zone = currentTimeZone()): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return NaN;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  // Two passes: the offset at the first guess may differ from the offset at the answer (a DST change between them).
  const first = wall - (wallClockAsUtc(wall, zone) - wall);
  return wall - (wallClockAsUtc(first, zone) - first);
}
