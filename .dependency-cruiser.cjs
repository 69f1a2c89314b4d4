/* global module */
// Architecture rules of issue 9, checked by `npm run lint:deps` (scripts/lint-deps.ts) in `npm test`.
// What a "module" is and why each rule exists: docs/architecture.md#enforced-structure.
//
// Module cycles are not a rule here: dependency-cruiser finds cycles between files, and its
// folder-level cycle rule neither treats the top-level files (src/app.ts, src/core.ts, ...) as
// modules of their own nor honours the known-violations baseline. scripts/architecture.ts
// collapses the graph that dependency-cruiser reports into modules and checks it under the
// rule name `no-module-cycles`, with its known cycles in .module-cycles-known-violations.json next
// to this tool's own baseline (.dependency-cruiser-known-violations.json). Regenerate both with
// `npm run lint:deps:baseline`; `npx depcruise src --ignore-known` checks the file rules alone.

// A module's public surface: what another module may import from src/modules/<area>/.
const PUBLIC_SURFACE = '^src/modules/[^/]+/(index|[^/]+[.](service|repo|types))[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'db-and-net-import-no-module',
      comment: 'src/db and src/net sit below every module: they never import from src/modules.',
      severity: 'error',
      from: { path: '^src/(db|net)/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'module-public-surface',
      comment:
        'Outside its own folder, a module is imported only through index.ts, *.service.ts, *.repo.ts or *.types.ts. ' +
        'The top-level files (the composition root) may import anything.',
      severity: 'error',
      from: { path: '^src/(modules/[^/]+|[^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/$1/', PUBLIC_SURFACE] },
    },
    {
      name: 'src-imports-no-test-or-bench',
      comment: 'Production code never depends on test or benchmark code.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    // Type-only imports count: a cycle made only of `import type` edges still ties two modules together.
    tsPreCompilationDeps: true,
    doNotFollow: { path: ['node_modules', '^test/', '^bench/'] },
    exclude: { path: ['node_modules'] },
    moduleSystems: ['es6'],
    skipAnalysisNotInRules: true,
  },
};
