import type { Db } from '../../db/database.ts';
import { assertThat, forbidden } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';
import { createAuditRepo, type AuditFilter } from './audit.repo.ts';
import { csvLine, CSV_COLUMNS, toAuditOut } from './audit.export.ts';

const EXPORT_CHUNK = 500;

/** Needs only the database; it takes no Core so that audit stays below core.ts, which builds the audit log. */
export function createAuditService(core: { db: Db }) {
  const repo = createAuditRepo(core.db);
  return {
    list: async (actor: Actor, filter: AuditFilter, page: { limit: number; beforeSeq?: number }) => {
      assertThat(actor.isAdmin, forbidden());
      const rows = await repo.list(filter, page);
      const items = rows.slice(0, page.limit).map(toAuditOut);
      return { items, next_cursor: rows.length > page.limit ? String(items[items.length - 1]!.seq) : null };
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
          for (const row of rows) {
            const out = toAuditOut(row);
            yield format === 'csv' ? csvLine(out) : JSON.stringify(out) + '\n';
          }
          after = Number(rows[rows.length - 1]!.seq);
        }
      })();
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
