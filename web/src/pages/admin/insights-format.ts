/** Formatting and URL ↔ API mapping of the Insights page (pure, so the page stays about layout). */
import { currentTimeZone, fromZonedInput } from '../../lib/time.ts';

/** 10 → "10 s", 600 → "10 min", 1530 → "25.5 min", 5400 → "1.5 h", 172800 → "2 d"; null → "—". */
export function formatSecs(secs: number | null): string {
  if (secs === null) return '—';
  const one = (n: number) => String(Math.round(n * 10) / 10);
  if (secs < 60) return `${Math.round(secs)} s`;
  if (secs < 3600) return `${one(secs / 60)} min`;
  if (secs < 86_400) return `${one(secs / 3600)} h`;
  return `${one(secs / 86_400)} d`;
}

/** 0.5 → "50%"; null → "—". */
export const formatPercent = (share: number | null): string => (share === null ? '—' : `${Math.round(share * 100)}%`);

/**
 * The URL's filters as the API's query: `from` is the start of its day, `to` the end of its
 * day (the next day's start), both in the user's time zone (their setting, else the
 * browser's), as every other time in the portal; blanks use the API's default (the last 30 days).
 */
export function rangeQuery(f: { from: string; to: string; template_id: string }, zone = currentTimeZone()): Record<string, string | undefined> {
  const dayStart = (date: string, plusDays = 0) => {
    const [y, m, d] = date.split('-').map(Number);
    if (!y || !m || !d) return undefined;
    const day = new Date(Date.UTC(y, m - 1, d + plusDays)).toISOString().slice(0, 10);
    const at = fromZonedInput(`${day}T00:00`, zone);
    return Number.isNaN(at) ? undefined : new Date(at).toISOString();
  };
  return { from: f.from ? dayStart(f.from) : undefined, to: f.to ? dayStart(f.to, 1) : undefined, template_id: f.template_id || undefined };
}
