// The architecture rules of issue 9 (.dependency-cruiser.cjs, scripts/architecture.ts): they report
// what they should on a small fixture tree, the baseline tolerates only what it lists, and the
// generated parts of docs/architecture.md match the code.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IViolation } from 'dependency-cruiser';
import {
  CONFIG_FILE,
  CYCLE_RULE,
  checkArchitecture,
  cruiseSource,
  loadConfig,
  moduleGraph,
  moduleOf,
  readBaseline,
} from '../scripts/architecture.ts';
import { ARCHITECTURE_DOC, renderArchitectureDoc } from '../scripts/module-graph-doc.ts';
import { TABLE_OWNERS } from '../scripts/table-owners.ts';

const root = path.resolve(import.meta.dirname, '..');

const fixture: Record<string, string> = {
  // a → b at run time, b → a only through a type: a module cycle all the same.
  'src/modules/a/a.service.ts': "import { b } from '../b/b.service.ts';\nexport const a = (): number => b() + 1;\n",
  'src/modules/a/a.types.ts': 'export interface AThing { id: string }\n',
  'src/modules/a/internal.ts': "import type { AThing } from './a.types.ts';\nexport const hidden = (thing: AThing): string => thing.id;\n",
  'src/modules/b/b.service.ts': "import type { AThing } from '../a/a.types.ts';\nexport const b = (thing?: AThing): number => (thing ? 1 : 0);\n",
  // c reaches into a's internals and into test code; its use of a's service is allowed.
  'src/modules/c/c.service.ts':
    "import { hidden } from '../a/internal.ts';\nimport { a } from '../a/a.service.ts';\nimport { helper } from '../../../test/helper.ts';\n" +
    'export const c = (): string => hidden({ id: String(a() + helper()) });\n',
  // the database layer imports a module.
  'src/db/query.ts': "import { a } from '../modules/a/a.service.ts';\nexport const query = (): number => a();\n",
  'src/app.ts': "import { c } from './modules/c/c.service.ts';\nimport { hidden } from './modules/a/internal.ts';\nexport const app = (): string => c() + hidden({ id: 'x' });\n",
  'test/helper.ts': 'export const helper = (): number => 2;\n',
  // Tables: the users module may query its own table; the groups module joins users (not its own); a migration may touch any table.
  'src/modules/users/users.repo.ts': "export const q = (db: any) => db.selectFrom('users').selectAll();\n",
  'src/modules/groups/groups.repo.ts': "export const q = (db: any) => db.selectFrom('groups as g').innerJoin('users as u', 'u.id', 'g.id').selectAll();\n",
  'src/db/migrations/0001.ts': "export const up = (db: any) => db.insertInto('users').values({});\n",
  // A row lock names its table too: the groups service locks a user's row.
  'src/modules/groups/groups.service.ts': "export const l = (trx: any, dialect: any) => lockRow(trx, dialect, 'users', 'id', 'u');\n",
};

const summary = (violations: IViolation[]) => violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();

describe('architecture rules on a fixture tree', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'interim-architecture-'));
    await copyFile(path.join(root, CONFIG_FILE), path.join(dir, CONFIG_FILE));
    for (const [file, text] of Object.entries(fixture)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the module cycle (type-only edge included) and every illegal import, and nothing else', async () => {
    const report = await checkArchitecture(dir, []);

    expect(summary(report.newViolations)).toEqual([
      'db-and-net-import-no-module: src/db/query.ts → src/modules/a/a.service.ts',
      'module-public-surface: src/modules/c/c.service.ts → src/modules/a/internal.ts',
      `${CYCLE_RULE}: src/modules/a → src/modules/b`,
      `${CYCLE_RULE}: src/modules/b → src/modules/a`,
      'src-imports-no-test-or-bench: src/modules/c/c.service.ts → test/helper.ts',
      'table-owner: src/modules/groups/groups.repo.ts → users',
      'table-owner: src/modules/groups/groups.service.ts → users',
    ]);
    const typeOnly = report.graph.edges.find((edge) => edge.from === 'src/modules/b' && edge.to === 'src/modules/a');
    expect(typeOnly?.typeOnly).toBe(true);
  });

  it('tolerates what the baseline lists and fails on a new violation', async () => {
    const baseline = (await checkArchitecture(dir, [])).violations;
    expect((await checkArchitecture(dir, baseline)).newViolations).toEqual([]);

    // A new import b → c closes the loop c → a → b → c; src/net may not import a module.
    await writeFile(path.join(dir, 'src/modules/b/b.repo.ts'), "import { c } from '../c/c.service.ts';\nexport const fromC = (): string => c();\n");
    await mkdir(path.join(dir, 'src/net'), { recursive: true });
    await writeFile(path.join(dir, 'src/net/fetch.ts'), "import { b } from '../modules/b/b.service.ts';\nexport const fetchB = (): number => b();\n");
    // The users module starts writing the groups table.
    await writeFile(path.join(dir, 'src/modules/users/users.service.ts'), "export const w = (db: any) => db.updateTable('groups').set({});\n");
    const report = await checkArchitecture(dir, baseline);

    expect(summary(report.newViolations)).toEqual([
      'db-and-net-import-no-module: src/net/fetch.ts → src/modules/b/b.service.ts',
      `${CYCLE_RULE}: src/modules/b → src/modules/c`,
      `${CYCLE_RULE}: src/modules/c → src/modules/a`,
      'table-owner: src/modules/users/users.service.ts → groups',
    ]);
    expect(report.fixed).toEqual([]);
  });

  it('gives every table of the schema exactly one owner (settings: one per key)', async () => {
    const schema = await readFile(path.join(root, 'src/db/schema.ts'), 'utf8');
    const body = /export interface DB \{([^}]*)\}/.exec(schema)?.[1] ?? '';
    const tables = [...body.matchAll(/^\s+([a-z_]+):/gm)].map(([, name]) => name).sort();
    expect(tables.length).toBeGreaterThan(20);
    expect(Object.keys(TABLE_OWNERS).sort()).toEqual(tables);
  });

  it('docs/architecture.md lists each table under its owner', async () => {
    const doc = await readFile(path.join(root, ARCHITECTURE_DOC), 'utf8');
    const rows = doc.slice(doc.indexOf('<!-- module-ownership:start -->'), doc.indexOf('<!-- module-ownership:end -->')).split('\n');
    for (const [table, owner] of Object.entries(TABLE_OWNERS)) {
      for (const module of typeof owner === 'string' ? [owner] : owner) {
        const name = module.replace(/^src\/(modules\/)?/, '');
        const row = rows.find((line) => line.startsWith(`| \`${name}\``));
        expect(row?.split('|')[2], `the ownership table's row for ${name}`).toContain(`\`${table}\``);
      }
    }
  });

  it('collapses files into modules: areas, folders and top-level files', () => {
    expect(moduleOf('src/modules/requests/lifecycle.ts')).toBe('src/modules/requests');
    expect(moduleOf('src/db/migrations/0001_foundation.ts')).toBe('src/db');
    expect(moduleOf('src/app.ts')).toBe('src/app.ts');
    expect(moduleOf('test/helpers/app.ts')).toBe('test');
  });
});

describe('architecture of this repository', () => {
  it('has no violation beyond the baseline, and docs/architecture.md shows the current graph', async () => {
    const baseline = await readBaseline(root);
    const result = await cruiseSource(root, loadConfig(root));
    const doc = await readFile(path.join(root, ARCHITECTURE_DOC), 'utf8');

    const report = await checkArchitecture(root, baseline);
    expect(summary(report.newViolations), 'new architecture violations: see npm run lint:deps').toEqual([]);
    const current = renderArchitectureDoc(doc, moduleGraph(result), baseline);
    expect(current === doc, `${ARCHITECTURE_DOC} is stale: run npm run docs:graph`).toBe(true);
  });
});
