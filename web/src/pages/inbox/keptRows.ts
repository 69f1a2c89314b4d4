/**
 * The inbox's rows, with the ones decided here kept where they were: a decision refreshes
 * the inbox, which no longer lists the request, yet the approver should see the outcome in
 * place rather than the list jumping under the keyboard focus. The kept rows go when the
 * page is left.
 */
export interface KeptRow<T> {
  row: T;
  /** Where the row stood when it was decided. */
  index: number;
}

export function withKeptRows<T extends { id: string }>(fresh: readonly T[], kept: Readonly<Record<string, KeptRow<T>>>): T[] {
  const rows = [...fresh];
  const present = new Set(fresh.map((r) => r.id));
  for (const { row, index } of Object.values(kept).sort((a, b) => a.index - b.index)) {
    if (present.has(row.id)) continue;
    rows.splice(Math.min(index, rows.length), 0, row);
  }
  return rows;
}
