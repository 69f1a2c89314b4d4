// The architecture check of issue 9 and the module graph in docs/architecture.md, both from one
// dependency-cruiser run over src/.
//
// dependency-cruiser checks the file-level rules of .dependency-cruiser.cjs. Module cycles are
// checked here, because a "module" is a collapsed node (src/modules/<area>, src/<folder> or a
// top-level file such as src/app.ts) and dependency-cruiser only collapses for its reports; its
// folder-level cycle rule has no node for a top-level file and ignores the baseline. Known
// violations are dependency-cruiser's baseline (so `npx depcruise src --ignore-known` works
// too) plus the known module cycles in a second file of the same format.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise, format, type IConfiguration, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { moduleOf } from './modules.ts';
import { TABLE_BASELINE_FILE, tableOwnerViolations } from './table-owners.ts';

export { moduleOf };

export const CONFIG_FILE = '.dependency-cruiser.cjs';
export const BASELINE_FILE = '.dependency-cruiser-known-violations.json';
export const CYCLE_BASELINE_FILE = '.module-cycles-known-violations.json';
export const CYCLE_RULE = 'no-module-cycles';

export interface ModuleEdge {
  from: string;
  to: string;
  /** Every import behind this edge is `import type`: no runtime coupling, but still a dependency. */
  typeOnly: boolean;
}

export interface ModuleGraph {
  modules: string[];
  edges: ModuleEdge[];
}

export interface ArchitectureReport {
  graph: ModuleGraph;
  /** Every violation found, known or not. */
  violations: IViolation[];
  /** Violations that the baseline does not list: these fail the check. */
  newViolations: IViolation[];
  /** Baseline entries that no longer occur (fixed): `npm run lint:deps:baseline` drops them. */
  fixed: IViolation[];
}

export function loadConfig(baseDir: string): IConfiguration {
  return createRequire(path.join(baseDir, 'package.json'))(path.join(baseDir, CONFIG_FILE)) as IConfiguration;
}

async function readViolations(file: string): Promise<IViolation[]> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as IViolation[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The known violations: dependency-cruiser's baseline, the known module cycles, the known table-owner exceptions. */
export async function readBaseline(baseDir: string): Promise<IViolation[]> {
  const files = [BASELINE_FILE, CYCLE_BASELINE_FILE, TABLE_BASELINE_FILE];
  return (await Promise.all(files.map((file) => readViolations(path.join(baseDir, file))))).flat();
}

/** Runs dependency-cruiser over `<baseDir>/src` with the rules of `config`. */
export async function cruiseSource(baseDir: string, config: IConfiguration): Promise<ICruiseResult> {
  const { forbidden, options } = config;
  const { output } = await cruise(['src'], { ...options, baseDir, validate: true, ruleSet: { forbidden } });
  return output as ICruiseResult;
}

export function moduleGraph(result: ICruiseResult): ModuleGraph {
  const edges = new Map<string, ModuleEdge>();
  const modules = new Set<string>();
  for (const file of result.modules) {
    if (!file.source.startsWith('src/')) continue;
    const from = moduleOf(file.source);
    modules.add(from);
    for (const dependency of file.dependencies) {
      if (dependency.coreModule || dependency.couldNotResolve || !dependency.resolved.startsWith('src/')) continue;
      const to = moduleOf(dependency.resolved);
      if (to === from) continue;
      const key = `${from}\n${to}`;
      const typeOnly = dependency.dependencyTypes.includes('type-only');
      const edge = edges.get(key);
      edges.set(key, { from, to, typeOnly: typeOnly && (edge?.typeOnly ?? true) });
    }
  }
  const byName = (a: ModuleEdge, b: ModuleEdge) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to);
  return { modules: [...modules].sort(), edges: [...edges.values()].sort(byName) };
}

/** Shortest path from `start` to `goal` along the edges, both ends included; undefined when there is none. */
function shortestPath(graph: ModuleGraph, start: string, goal: string): string[] | undefined {
  const previous = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    if (node === goal) {
      const path: string[] = [];
      for (let at: string | null | undefined = goal; at; at = previous.get(at)) path.unshift(at);
      return path;
    }
    for (const edge of graph.edges) {
      if (edge.from === node && !previous.has(edge.to)) {
        previous.set(edge.to, node);
        queue.push(edge.to);
      }
    }
  }
  return undefined;
}

/**
 * One violation per module edge that lies on a cycle (from → to, and `to` leads back to `from`),
 * as dependency-cruiser reports cycles: so a new import that closes or widens a loop is a new entry.
 */
export function moduleCycles(graph: ModuleGraph): IViolation[] {
  const violations: IViolation[] = [];
  for (const edge of graph.edges) {
    const back = shortestPath(graph, edge.to, edge.from);
    if (!back) continue;
    violations.push({
      type: 'cycle',
      from: edge.from,
      to: edge.to,
      rule: { name: CYCLE_RULE, severity: 'error' },
      cycle: back.map((name) => ({ name, dependencyTypes: [] })),
    });
  }
  return violations;
}

function sameViolation(a: IViolation, b: IViolation): boolean {
  return a.rule.name === b.rule.name && a.from === b.from && a.to === b.to;
}

function fileViolations(result: ICruiseResult): IViolation[] {
  return result.summary.violations.filter((violation) => violation.rule.severity === 'error');
}

/** Checks the architecture of `<baseDir>/src` against the rules and the given known violations. */
export async function checkArchitecture(baseDir: string, known: IViolation[]): Promise<ArchitectureReport> {
  const result = await cruiseSource(baseDir, loadConfig(baseDir));
  const graph = moduleGraph(result);
  const violations = [...fileViolations(result), ...moduleCycles(graph), ...(await tableOwnerViolations(baseDir))];
  return {
    graph,
    violations,
    newViolations: violations.filter((found) => !known.some((entry) => sameViolation(entry, found))),
    fixed: known.filter((entry) => !violations.some((found) => sameViolation(entry, found))),
  };
}

/** The baseline files' content for the current code: dependency-cruiser's baseline report, the module cycles, the table-owner exceptions. */
export async function baselineFiles(baseDir: string): Promise<Record<string, IViolation[]>> {
  const result = await cruiseSource(baseDir, loadConfig(baseDir));
  const fromTool = JSON.parse((await format(result, { outputType: 'baseline' })).output as string) as IViolation[];
  return { [BASELINE_FILE]: fromTool, [CYCLE_BASELINE_FILE]: moduleCycles(moduleGraph(result)), [TABLE_BASELINE_FILE]: await tableOwnerViolations(baseDir) };
}

export function describeViolation(violation: IViolation): string {
  const via = violation.cycle?.length ? ` (back via ${violation.cycle.map((step) => step.name).join(' → ')})` : '';
  return `${violation.rule.name}: ${violation.from} → ${violation.to}${via}`;
}
