import type { Db } from '../../db/database.ts';
import { assertThat, forbidden } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';
import { createAuditRepo, type AuditFilter } from './audit.repo.ts';
import { csvLine, CSV_COLUMNS, toAuditOut, toNamedAuditOut } from './audit.export.ts';
import { resolveNames } from './audit.names.ts';
import type { AuditDirectory } from './audit.types.ts';

const EXPORT_CHUNK = 500;

/**
 * Needs only the database; it takes no Core so that audit stays below core.ts, which builds the
 * audit log. The directory (from the composition root) names actors and targets.
 */
export function createAuditService(core: { db: Db }, directory: AuditDirectory) {
  const repo = createAuditRepo(core.db, directory);
  return {
    list: async (actor: Actor, filter: AuditFilter, page: { limit: number; beforeSeq?: number }) => {
      assertThat(actor.isAdmin, forbidden());
      const found = await repo.list(filter, page);
      const more = found.length > page.limit;
      const rows = found.slice(0, page.limit);
      const names = await resolveNames(core.db, directory, rows);
      const items = rows.map((row) => toNamedAuditOut(row, names));
      return { items, next_cursor: more ? String(items[items.length - 1]!.seq) : null };
    },

    head: async (actor: Actor) => {
      assertThat(actor.isAdmin, forbidden());
      const head = await repo.head();
      return { seq: Number(head.seq), hash: head.hash };
    },

    /** Streams matching events oldest first, in chunks, as NDJSON or CSV. */
    export: (actor: Actor, filter: AuditFilter, format: 'ndjson' | 'csv') => {
      assertThat(actor.isAdmin, forbidden());
      return (async function* () {
        if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
        let after = 0;
        for (;;) {
          const rows = await repo.chunkAfter(filter, after, EXPORT_CHUNK);
          if (rows.length === 0) return;
          if (format === 'csv') {
            const names = await resolveNames(core.db, directory, rows);
            for (const row of rows) yield csvLine(toNamedAuditOut(row, names));
          } else {
            // The NDJSON export is the chain's rows as stored, nothing looked up beside them.
            for (const row of rows) yield JSON.stringify(toAuditOut(row)) + '\n';
          }
          after = Number(rows[rows.length - 1]!.seq);
        }
      })();
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
