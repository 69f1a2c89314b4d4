import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Preloaded (`node --import`) into an Interim server by the token-path benchmark only:
 * counts the SQL statements the process runs, and on PostgreSQL its round trips (each
 * pg Client.query is one) and pool checkouts. On SIGUSR2 it writes the running totals,
 * with a count per statement text, to INTERIM_BENCH_COUNT_FILE. Nothing in src/ knows
 * about it.
 */
const require = createRequire(path.join(process.cwd(), 'package.json'));
const totals = { statements: 0, roundTrips: 0, checkouts: 0, bySql: {} as Record<string, number> };
const note = (sql: unknown) => {
  totals.statements++;
  const key = String(sql).replace(/\s+/g, ' ').slice(0, 160);
  totals.bySql[key] = (totals.bySql[key] ?? 0) + 1;
};

const pg = require('pg') as { Client: { prototype: Record<string, unknown> }; Pool: { prototype: Record<string, unknown> } };
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: unknown, ...args: unknown[]) {
  const first = args[0] as string | { text?: string };
  note(typeof first === 'string' ? first : first?.text);
  totals.roundTrips++;
  return query.apply(this, args);
};
const connect = pg.Pool.prototype.connect as (...args: unknown[]) => unknown;
pg.Pool.prototype.connect = function countedConnect(this: unknown, ...args: unknown[]) {
  totals.checkouts++;
  return connect.apply(this, args);
};

type Sqlite = new (file: string) => { prepare(sql: string): object; close(): void };
const SQLite = require('better-sqlite3') as Sqlite;
const probe = new SQLite(':memory:');
const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown> & { source?: string };
probe.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = statementProto[method] as (...args: unknown[]) => unknown;
  statementProto[method] = function countedStep(this: { source: string }, ...args: unknown[]) {
    note(this.source);
    return original.apply(this, args);
  };
}

process.on('SIGUSR2', () => {
  const file = process.env.INTERIM_BENCH_COUNT_FILE;
  if (file) writeFileSync(file, JSON.stringify(totals));
});
