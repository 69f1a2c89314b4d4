// npm run docs:graph    rewrites the generated parts of docs/architecture.md from the code:
//   the module graph (Mermaid) and the list of known violations still in the baseline.
// test/architecture.test.ts fails when they are stale.
import { readFile, writeFile } from 'node:fs/promises';
import { cruiseSource, loadConfig, moduleGraph, readBaseline } from './architecture.ts';
import { ARCHITECTURE_DOC, renderArchitectureDoc } from './module-graph-doc.ts';

const baseDir = process.cwd();
const graph = moduleGraph(await cruiseSource(baseDir, loadConfig(baseDir)));
const before = await readFile(ARCHITECTURE_DOC, 'utf8');
const after = renderArchitectureDoc(before, graph, await readBaseline(baseDir));
await writeFile(ARCHITECTURE_DOC, after);
console.log(`docs:graph: ${ARCHITECTURE_DOC} ${after === before ? 'was current' : 'updated'}`);
