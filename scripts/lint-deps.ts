// npm run lint:deps             fails on any architecture violation that the baseline does not list
// npm run lint:deps:baseline    rewrites the baseline (.dependency-cruiser-known-violations.json) from the code
//
// The rules: .dependency-cruiser.cjs and docs/architecture.md#enforced-structure.
import { writeFile } from 'node:fs/promises';
import { BASELINE_FILE, baselineText, checkArchitecture, describeViolation, readBaseline } from './architecture.ts';

const baseDir = process.cwd();

if (process.argv.includes('--baseline')) {
  const text = await baselineText(baseDir);
  await writeFile(BASELINE_FILE, text);
  console.log(`lint:deps: ${(JSON.parse(text) as unknown[]).length} known violations written to ${BASELINE_FILE}`);
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
