import { readFileSync } from 'node:fs';
import { ROOT } from './processes.ts';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time by
 * area (our code, each package, Node internals, GC) and the top functions by self and
 * by total time. Idle time is left out of every share.
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  busyMs: number;
  byArea: { area: string; share: number }[];
  bySelf: { fn: string; share: number }[];
  byTotal: { fn: string; share: number }[];
}

function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const local = url.replace(`file://${ROOT}/`, '');
  return local.startsWith('src/') ? local.split('/').slice(0, 2).join('/') : local;
}

function label(frame: CallFrame): string {
  const where = frame.url ? `${areaOf(frame)}${frame.url.includes('node_modules') || frame.url.startsWith('node:') ? `/${frame.url.split('/').pop()}` : ''}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

export function summarizeCpuProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    if (node.callFrame.functionName === '(idle)') return;
    busy += dt;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + dt);
    areas.set(areaOf(node.callFrame), (areas.get(areaOf(node.callFrame)) ?? 0) + dt);
    // Total time: each function once per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
  });
  const ranked = (m: Map<string, number>, key: 'fn' | 'area') =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ [key]: name, share: us / busy }) as { fn: string; area: string; share: number });
  return {
    busyMs: busy / 1000,
    byArea: ranked(areas, 'area'),
    bySelf: ranked(self, 'fn'),
    byTotal: ranked(new Map([...total].filter(([name]) => !name.startsWith('(root)') && !name.startsWith('(program)'))), 'fn'),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const pct = (s: number) => `${(100 * s).toFixed(1).padStart(5)}%`;
  return [
    `busy CPU sampled: ${(summary.busyMs / 1000).toFixed(1)} s`,
    'self time by area:',
    ...summary.byArea.map((a) => `  ${pct(a.share)}  ${a.area}`),
    'top functions by self time:',
    ...summary.bySelf.map((f) => `  ${pct(f.share)}  ${f.fn}`),
    'top functions by total time:',
    ...summary.byTotal.map((f) => `  ${pct(f.share)}  ${f.fn}`),
  ].join('\n');
}
