import type { AuditNames } from './audit.names.ts';
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

/** An audit event with its actor and target named, for people (the list and the CSV); the NDJSON export stays the bare chain rows. */
export function toNamedAuditOut(r: AuditRow, names: AuditNames) {
  return { ...toAuditOut(r), actor: names.actorOf(r), target: names.targetOf(r) };
}

/** The chain's columns, then the names a reader needs (not hashed: they are looked up at export time). */
export const CSV_COLUMNS = ['seq', 'id', 'at', 'actor_type', 'actor_id', 'action', 'target_type', 'target_id', 'request_id', 'data', 'prev_hash', 'hash', 'actor_email', 'actor_name', 'target_name'] as const;

/**
 * One CSV cell. A cell a spreadsheet would run as a formula (= + - @, tab, CR) gets a
 * leading apostrophe; quotes are doubled.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(row: ReturnType<typeof toNamedAuditOut>): string {
  const cells = { ...row, actor_email: row.actor?.email ?? '', actor_name: row.actor?.name ?? (row.actor_type === 'system' ? 'system' : ''), target_name: row.target?.name ?? '' };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',') + '\r\n';
}
