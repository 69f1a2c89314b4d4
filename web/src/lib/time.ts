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
