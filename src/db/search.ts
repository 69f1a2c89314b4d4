import { sql, type RawBuilder } from 'kysely';

/**
 * The admin search boxes: a column that contains, or starts with, what someone typed,
 * in any case, on both dialects. `%`, `_` and `\` in the input match themselves (they
 * are escaped, with `\` as the LIKE escape character), so a search is never a pattern.
 * Both sides go through the database's own lower(), so folding is the same on each side.
 */
export function matchesIgnoringCase(column: string, text: string, where: 'contains' | 'starts'): RawBuilder<boolean> {
  const escaped = text.replace(/[\\%_]/g, (c) => `\\${c}`);
  const pattern = where === 'starts' ? `${escaped}%` : `%${escaped}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like lower(${pattern}) escape ${'\\'}`;
}
