// The `table-owner` rule of issue 9: each table has one owning module, and only that module's
// code names the table in a query (selectFrom, insertInto, updateTable, deleteFrom, a join or a
// CTE) or a row lock (lockRow). Another module calls the owner's repo or service, in the
// caller's transaction.
// Checked by `npm run lint:deps` beside dependency-cruiser's rules; the exceptions still in the
// code are the baseline .table-owners-known-violations.json, listed in docs/architecture.md.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { IViolation } from 'dependency-cruiser';
import { moduleOf } from './modules.ts';

export const TABLE_RULE = 'table-owner';
export const TABLE_BASELINE_FILE = '.table-owners-known-violations.json';

/**
 * Every table of src/db/schema.ts and its owning module. `settings` is a key–value table
 * whose rows have different owners (docs/architecture.md): each owner names only its keys.
 */
export const TABLE_OWNERS: Readonly<Record<string, string | readonly string[]>> = {
  users: 'src/modules/users',
  groups: 'src/modules/groups',
  memberships: 'src/modules/groups',
  applications: 'src/modules/applications',
  mappings: 'src/modules/mappings',
  mapping_groups: 'src/modules/mappings',
  api_tokens: 'src/modules/api-tokens',
  sessions: 'src/modules/auth',
  login_throttle: 'src/modules/auth',
  oidc_payloads: 'src/oidc',
  signing_keys: 'src/oidc',
  settings: ['src/modules/api-tokens', 'src/oidc'],
  audit_events: 'src/modules/audit',
  audit_head: 'src/modules/audit',
  access_request_templates: 'src/modules/templates',
  template_groups: 'src/modules/templates',
  template_mappings: 'src/modules/templates',
  template_stages: 'src/modules/templates',
  template_stage_groups: 'src/modules/templates',
  access_requests: 'src/modules/requests',
  access_request_comments: 'src/modules/requests',
  break_glass_grants: 'src/modules/requests',
  access_request_votes: 'src/modules/requests',
  outbox_events: 'src/modules/events',
  deliveries: 'src/modules/deliveries',
  delivery_attempts: 'src/modules/deliveries',
  notifications: 'src/modules/notifications',
  round_robin_positions: 'src/modules/notifications',
  scripts: 'src/modules/scripts',
  script_secrets: 'src/modules/scripts',
  script_secret_grants: 'src/modules/scripts',
  ssf_streams: 'src/modules/ssf',
  ssf_subjects: 'src/modules/ssf',
  ssf_held: 'src/modules/ssf',
  ssf_poll_queue: 'src/modules/ssf',
  script_runs: 'src/modules/scripts',
  event_actions: 'src/modules/event-actions',
  resource_servers: 'src/modules/resource-servers',
  resource_server_apps: 'src/modules/resource-servers',
  grant_usage: 'src/modules/claims',
  mfa_factors: 'src/modules/mfa',
  mfa_recovery_codes: 'src/modules/mfa',
  step_up_proofs: 'src/modules/step-up',
};

const QUERY = /\b(?:selectFrom|insertInto|updateTable|deleteFrom|innerJoin|leftJoin|rightJoin|fullJoin|with|mergeInto)\(\s*'([a-z_]+)(?: as [a-z_]+)?'/g;
/** `lockRow(trx, dialect, 'table', …)` (src/db/locks.ts) locks, and so reads, a row by the table's name. */
const LOCK = /\blockRow\(\s*[\w.]+\s*,\s*[\w.]+\s*,\s*'([a-z_]+)'/g;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

const ownersOf = (table: string): readonly string[] => {
  const owner = TABLE_OWNERS[table];
  return owner === undefined ? [] : typeof owner === 'string' ? [owner] : owner;
};

/**
 * One violation per file and table it names without owning it. Migrations create and reshape
 * every table, so src/db/migrations is exempt; names that are not tables (CTE aliases) are skipped.
 */
export async function tableOwnerViolations(baseDir: string): Promise<IViolation[]> {
  const found = new Map<string, IViolation>();
  for (const absolute of await sourceFiles(path.join(baseDir, 'src'))) {
    const file = path.relative(baseDir, absolute).split(path.sep).join('/');
    if (file.startsWith('src/db/migrations/')) continue;
    const text = await readFile(absolute, 'utf8');
    for (const [, table] of [...text.matchAll(QUERY), ...text.matchAll(LOCK)]) {
      if (!table) continue;
      const owners = ownersOf(table);
      if (owners.length === 0 || owners.includes(moduleOf(file))) continue;
      found.set(`${file}\n${table}`, { type: 'dependency', from: file, to: table, rule: { name: TABLE_RULE, severity: 'error' } } as IViolation);
    }
  }
  return [...found.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}
