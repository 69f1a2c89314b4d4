import type { AuditRow } from './audit.repo.ts';

/** The API shape of an audit event. `data` is parsed back from its canonical JSON. */
export function toAuditOut(r: AuditRow) {
  return {
    seq: Number(r.seq),
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor_type: r.actor_type,
    actor_id: r.actor_id,
    action: r.action,
    target_type: r.target_type,
    target_id: r.target_id,
    request_id: r.request_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
    hash: r.hash,
    prev_hash: r.prev_hash,
  };
}

export const CSV_COLUMNS = ['seq', 'id', 'at', 'actor_type', 'actor_id', 'action', 'target_type', 'target_id', 'request_id', 'data', 'prev_hash', 'hash'] as const;

/**
 * One CSV cell. A cell a spreadsheet would run as a formula (= + - @, tab, CR) gets a
 * leading apostrophe; quotes are doubled.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(row: ReturnType<typeof toAuditOut>): string {
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',') + '\r\n';
}
