// npm run lint:deps             fails on any architecture violation that the baseline does not list
// npm run lint:deps:baseline    rewrites the baseline from the code: .dependency-cruiser-known-violations.json
//                               (dependency-cruiser's own), .module-cycles-known-violations.json and
//                               .table-owners-known-violations.json (scripts/table-owners.ts)
//
// The rules: .dependency-cruiser.cjs and docs/architecture.md#enforced-structure.
import { writeFile } from 'node:fs/promises';
import { baselineFiles, checkArchitecture, describeViolation, readBaseline } from './architecture.ts';

const baseDir = process.cwd();

if (process.argv.includes('--baseline')) {
  for (const [file, violations] of Object.entries(await baselineFiles(baseDir))) {
    await writeFile(file, `${JSON.stringify(violations, null, 2)}\n`);
    console.log(`lint:deps: ${violations.length} known violations written to ${file}`);
  }
} else {
  const known = await readBaseline(baseDir);
  const report = await checkArchitecture(baseDir, known);
  for (const violation of report.newViolations) console.error(`  error ${describeViolation(violation)}`);
  const summary = `${report.graph.modules.length} modules, ${report.violations.length - report.newViolations.length} known violations left`;
  if (report.fixed.length > 0) {
    console.log(`lint:deps: ${report.fixed.length} known violations are fixed: run npm run lint:deps:baseline to drop them`);
  }
  if (report.newViolations.length > 0) {
    console.error(`lint:deps: ${report.newViolations.length} new violations (${summary}); see docs/architecture.md#enforced-structure`);
    process.exitCode = 1;
  } else {
    console.log(`lint:deps: no new violations (${summary})`);
  }
}
