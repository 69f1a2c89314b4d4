import type { DialectName } from '../../src/db/database.ts';

/** DIALECTS=sqlite,postgres picks the databases every suite runs against (default: sqlite). */
export function dialectsUnderTest(): DialectName[] {
  const names = (process.env.DIALECTS ?? 'sqlite').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (n !== 'sqlite' && n !== 'postgres') throw new Error(`unknown dialect in DIALECTS: ${n}`);
  return names as DialectName[];
}
