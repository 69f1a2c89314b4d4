import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from '../db/database.ts';

const SLOT = '\u0000interim-param:';

/**
 * Builds and compiles a Kysely query once and runs it many times with new parameter
 * values: the token endpoint is the hot path and its queries never change shape. The
 * builder gets a `param(name)` placeholder for each value that varies; the SQL is
 * whatever Kysely produced for the dialect, so nothing dialect-specific lives here.
 */
export function prepare<P extends Record<string, unknown>, R>(
  db: Db,
  build: (param: <K extends keyof P & string>(name: K) => P[K]) => Compilable<R>,
): (params: P) => Promise<QueryResult<R>> {
  const compiled: CompiledQuery<R> = build((name) => `${SLOT}${name}` as never).compile();
  // Each compiled parameter is either a named slot, filled per call, or a constant.
  const slots: Array<{ name: string } | { value: unknown }> = compiled.parameters.map((value) =>
    typeof value === 'string' && value.startsWith(SLOT) ? { name: value.slice(SLOT.length) } : { value },
  );
  return (params) => db.executeQuery<R>({ ...compiled, parameters: slots.map((s) => ('name' in s ? params[s.name] : s.value)) });
}
