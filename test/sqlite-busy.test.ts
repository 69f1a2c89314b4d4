import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createTestDatabase } from './helpers/databases.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';

/**
 * Several processes share one SQLite file (`interim serve` with INTERIM_PROCESSES, or a
 * separate `interim worker`). A write that finds another connection holding the write
 * lock waits without freezing the event loop, and runs once the lock is free.
 */
if (dialectsUnderTest().includes('sqlite')) {
  describe('SQLite write lock held by another connection [sqlite]', () => {
    it('waits asynchronously: the event loop keeps turning, and the write runs once, when the lock is released', async () => {
      const database = await createTestDatabase('sqlite');
      if (database.target.kind !== 'sqlite') throw new Error('expected sqlite');
      const opened = openDatabase(database.target);
      const holder = new SQLite(database.target.file);
      try {
        await migrateToLatest(opened.db);
        await sql`create table busy_probe (x integer)`.execute(opened.db);
        holder.exec('begin immediate; insert into busy_probe values (1)');
        // The holder lives in this process: only a turning event loop can ever release it (with
        // SQLite's own busy wait the write would sleep the thread until it failed after 5 s).
        let ticks = 0;
        const ticker = setInterval(() => ticks++, 5);
        const release = setTimeout(() => holder.exec('commit'), 300);
        const started = performance.now();
        try {
          // A transaction (BEGIN IMMEDIATE) and an autocommit write, both behind the lock.
          await Promise.all([
            opened.db.transaction().execute(async (trx) => {
              await sql`insert into busy_probe values (2)`.execute(trx);
            }),
            sql`insert into busy_probe values (3)`.execute(opened.db),
          ]);
        } finally {
          clearInterval(ticker);
          clearTimeout(release);
        }
        expect(performance.now() - started).toBeGreaterThanOrEqual(250);
        // The release itself ran on this event loop; the ticker shows it turned meanwhile (few ticks on a loaded machine).
        expect(ticks).toBeGreaterThan(2);
        const rows = await sql<{ x: number }>`select x from busy_probe order by x`.execute(opened.db);
        expect(rows.rows.map((r) => r.x)).toEqual([1, 2, 3]);
      } finally {
        if (holder.inTransaction) holder.exec('rollback');
        holder.close();
        await opened.close();
        await database.drop();
      }
    });

    it('gives up with SQLITE_BUSY when the lock is held past the retry limit, without running the statement', async () => {
      const database = await createTestDatabase('sqlite');
      if (database.target.kind !== 'sqlite') throw new Error('expected sqlite');
      const opened = openDatabase(database.target);
      const holder = new SQLite(database.target.file);
      try {
        await migrateToLatest(opened.db);
        await sql`create table busy_probe (x integer)`.execute(opened.db);
        holder.exec('begin immediate');
        await expect(sql`insert into busy_probe values (1)`.execute(opened.db)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
        holder.exec('rollback');
        const rows = await sql<{ n: number }>`select count(*) as n from busy_probe`.execute(opened.db);
        expect(rows.rows[0]!.n).toBe(0);
      } finally {
        if (holder.inTransaction) holder.exec('rollback');
        holder.close();
        await opened.close();
        await database.drop();
      }
    }, 20_000);
  });
}
