import { InvalidArgumentError } from 'commander';
import { systemClock } from '../clock.ts';

/** "4h", "90m", "1d", "1h30m", or plain minutes, as minutes. Throws a usage error otherwise. */
export function parseDuration(value: string): number {
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return positive(Number(text), value);
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text);
  if (!match || !text) throw new InvalidArgumentError(`"${value}" is not a duration; write e.g. 30m, 4h, 1h30m or 2d`);
  const [, d = '0', h = '0', m = '0'] = match;
  return positive(Number(d) * 1440 + Number(h) * 60 + Number(m), value);
}

function positive(minutes: number, value: string): number {
  if (!Number.isSafeInteger(minutes) || minutes <= 0) throw new InvalidArgumentError(`"${value}" must be longer than zero`);
  return minutes;
}

/** --start: an ISO 8601 instant, or "+2h" / "in 2h" from now. */
export function parseStart(value: string, now = systemClock.now()): string {
  const relative = /^(?:\+|in\s+)(.+)$/i.exec(value.trim());
  if (relative) return new Date(now + parseDuration(relative[1]!) * 60_000).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/\d{4}-\d{2}-\d{2}T/.test(value)) throw new InvalidArgumentError(`"${value}" is not a time; write an ISO 8601 time with its zone (2031-03-01T09:00:00Z) or +2h`);
  return new Date(at).toISOString();
}

/** --field k=v, repeatable: collected into an object. */
export function collectField(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError(`"${value}" must look like key=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** "2h", "1d 4h", "45m": minutes in words. */
export function minutesInWords(total: number): string {
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  return [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean).join(' ') || '0m';
}
