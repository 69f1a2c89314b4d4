import type { ClaimValue, RequestStatus } from '../api/types.ts';

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** 60 → "1 hour", 90 → "1 hour 30 minutes", 2880 → "2 days". */
export function formatDuration(mins: number): string {
  const days = Math.floor(mins / 1440);
  const hours = Math.floor((mins % 1440) / 60);
  const minutes = mins % 60;
  const parts: string[] = [];
  if (days) parts.push(plural(days, 'day'));
  if (hours) parts.push(plural(hours, 'hour'));
  if (minutes || parts.length === 0) parts.push(plural(minutes, 'minute'));
  return parts.join(' ');
}

/** Seconds of access left as a compact clock: "2d 4h", "3h 05m", "12m 09s", "45s". */
export function formatCountdown(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${pad(minutes)}m`;
  if (minutes) return `${minutes}m ${pad(seconds)}s`;
  return `${seconds}s`;
}



export function formatClaimValue(value: ClaimValue): string {
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

export const STATUS_LABEL: Record<RequestStatus, string> = {
  pending: 'Pending',
  provisioning: 'Provisioning',
  approved: 'Active',
  denied: 'Denied',
  cancelled: 'Cancelled',
  expired: 'Expired',
  revoked: 'Revoked',
  lapsed: 'Lapsed',
  extended: 'Extended',
};

/** "access_request.comment_added" → "comment added". */
export function eventLabel(type: string): string {
  return type.replace(/^access_request\./, '').replace(/_/g, ' ');
}
