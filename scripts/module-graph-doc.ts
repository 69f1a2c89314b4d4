// The generated sections of docs/architecture.md, each between its markers:
//   <!-- module-graph:start --> … <!-- module-graph:end -->       the module graph as Mermaid
//   <!-- known-violations:start --> … <!-- known-violations:end --> what the baseline still tolerates
import type { IViolation } from 'dependency-cruiser';
import { CYCLE_RULE, type ModuleGraph, moduleCycles } from './architecture.ts';
import { TABLE_RULE } from './table-owners.ts';

export const ARCHITECTURE_DOC = 'docs/architecture.md';

function nodeId(module: string): string {
  return module.replace(/^src\//, '').replace(/[^A-Za-z0-9]/g, '_');
}

/** Mermaid flowchart: solid arrows import at runtime, dotted ones only types; red arrows lie on a cycle. */
export function mermaid(graph: ModuleGraph): string {
  const cyclic = new Set(moduleCycles(graph).map((cycle) => `${cycle.from}\n${cycle.to}`));
  const lines = ['```mermaid', 'flowchart LR'];
  for (const module of graph.modules) lines.push(`  ${nodeId(module)}["${module.replace(/^src\//, '')}"]`);
  const red: number[] = [];
  graph.edges.forEach((edge, index) => {
    lines.push(`  ${nodeId(edge.from)} ${edge.typeOnly ? '-.->' : '-->'} ${nodeId(edge.to)}`);
    if (cyclic.has(`${edge.from}\n${edge.to}`)) red.push(index);
  });
  if (red.length > 0) lines.push(`  linkStyle ${red.join(',')} stroke:#d00,stroke-width:2px`);
  lines.push('```');
  return lines.join('\n');
}

const shortName = (module: string) => module.replace(/^src\/(modules\/)?/, '');

/** The baseline, short: pairs of modules that import each other, the modules on a cycle, file-rule counts. */
export function knownViolations(baseline: IViolation[]): string {
  if (baseline.length === 0) return 'None: every rule holds without exceptions.';
  const cycles = baseline.filter((violation) => violation.rule.name === CYCLE_RULE);
  const edges = new Set(cycles.map((cycle) => `${cycle.from}\n${cycle.to}`));
  const pairs = cycles
    .filter((cycle) => cycle.from < cycle.to && edges.has(`${cycle.to}\n${cycle.from}`))
    .map((cycle) => `\`${shortName(cycle.from)}\` ⇄ \`${shortName(cycle.to)}\``);
  const onCycle = [...new Set(cycles.flatMap((cycle) => [cycle.from, cycle.to]))].map(shortName).sort();
  const perRule = new Map<string, number>();
  for (const violation of baseline) {
    if (violation.rule.name !== CYCLE_RULE) perRule.set(violation.rule.name, (perRule.get(violation.rule.name) ?? 0) + 1);
  }
  const rules = [...perRule].sort(([a], [b]) => a.localeCompare(b)).map(([rule, count]) => `\`${rule}\` ${count}`);
  const tablesByFile = new Map<string, string[]>();
  for (const violation of baseline.filter((v) => v.rule.name === TABLE_RULE)) tablesByFile.set(violation.from, [...(tablesByFile.get(violation.from) ?? []), violation.to]);
  const tableLines = [...tablesByFile].map(([file, tables]) => `  - \`${file}\` names ${tables.map((t) => `\`${t}\``).join(', ')}`);
  return [
    `${baseline.length} known violations in the baseline:`,
    '',
    `- \`${CYCLE_RULE}\`: ${cycles.length} module edges on a cycle, through ${onCycle.map((name) => `\`${name}\``).join(', ') || 'no module'}.`,
    `- Modules that import each other: ${pairs.join(', ') || 'none'}.`,
    `- File rules: ${rules.join(', ') || 'none'}.`,
    ...(tableLines.length ? [`- Tables named outside their owner (\`${TABLE_RULE}\`):`, ...tableLines] : []),
  ].join('\n');
}

function replaceBetween(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${ARCHITECTURE_DOC} lacks the markers ${start} … ${end}`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

export function renderArchitectureDoc(doc: string, graph: ModuleGraph, baseline: IViolation[]): string {
  return replaceBetween(replaceBetween(doc, 'module-graph', mermaid(graph)), 'known-violations', knownViolations(baseline));
}
