// What a "module" is, for the architecture rules (scripts/architecture.ts, scripts/table-owners.ts).

/** The module a file belongs to: `src/modules/<area>`, `src/<folder>`, a top-level file itself, or `test`/`bench`. */
export function moduleOf(file: string): string {
  const inFolder = /^src\/(modules\/[^/]+|[^/]+)\//.exec(file);
  if (inFolder) return `src/${inFolder[1]}`;
  return file.startsWith('src/') ? file : (file.split('/')[0] ?? file);
}
