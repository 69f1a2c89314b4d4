import { z } from 'zod';
import { pageQuery } from '../../http/pagination.ts';
import { description, instant, name, searchText, toIso } from '../../http/schemas.ts';
import { normalizeHostName } from '../../net/host-names.ts';
import type { ScriptLog } from '../../sandbox/pool.ts';
import type { ScriptRow, ScriptRunRow, ScriptSecretRow } from './scripts.repo.ts';

export const MAX_SOURCE_BYTES = 256 * 1024;

/** The short event names a script sees as config.get('trigger_event'). */
export const SCRIPT_EVENT_TYPES = [
  'submitted',
  'approved',
  'denied',
  'cancelled',
  'escalated',
  'expiring_soon',
  'expired',
  'revoked',
  'comment_added',
  'provisioning_reverted',
  'lapsed',
  'break_glass_activated',
  'break_glass_reviewed',
  'extension_requested',
  'extended',
  'extension_denied',
  'stage_approved',
  'activated',
] as const;
export type ScriptEventType = (typeof SCRIPT_EVENT_TYPES)[number];

const source = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_SOURCE_BYTES, `must be at most ${MAX_SOURCE_BYTES / 1024} KiB`)
  .describe('JavaScript: the body of an async function (see docs/scripts.md)');

const hostName = z
  .string()
  .max(253)
  .transform((value, ctx) => {
    const host = normalizeHostName(value);
    if (host === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a bare host name such as api.example.com or an IP address: no scheme, port or path' });
      return z.NEVER;
    }
    return host;
  });

const allowedHosts = z.array(hostName).max(50).describe('hosts http.fetch may reach, matched exactly');
const secretIds = z.array(z.uuid()).max(50).describe('ids of the script secrets this script may read with secrets.get');

export const createScriptIn = z.strictObject({
  name,
  description: description.default(''),
  source,
  allowed_hosts: allowedHosts.default([]),
  secret_ids: secretIds.default([]),
});
export type CreateScriptIn = z.infer<typeof createScriptIn>;

export const updateScriptIn = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  source: source.optional(),
  allowed_hosts: allowedHosts.optional(),
  secret_ids: secretIds.optional().describe('replaces the granted secrets'),
});
export type UpdateScriptIn = z.infer<typeof updateScriptIn>;

export const scriptOut = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  source: z.string(),
  allowed_hosts: z.array(z.string()),
  secret_ids: z.array(z.uuid()),
  created_at: instant,
  updated_at: instant,
});

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const secretName = z.string().regex(SECRET_NAME, 'must start with a letter or underscore, followed by up to 63 letters, digits or underscores');
const secretValue = z.string().min(1).max(16 * 1024).describe('write-only: stored encrypted and never returned');

export const createSecretIn = z.strictObject({ name: secretName, value: secretValue });
export type CreateSecretIn = z.infer<typeof createSecretIn>;
export const updateSecretIn = z.strictObject({ name: secretName.optional(), value: secretValue.optional() });
export type UpdateSecretIn = z.infer<typeof updateSecretIn>;

export const secretOut = z.object({
  id: z.uuid(),
  name: z.string(),
  script_ids: z.array(z.uuid()).describe('scripts this secret is granted to'),
  created_at: instant,
  updated_at: instant,
});

export const runOut = z.object({
  id: z.uuid(),
  script_id: z.uuid(),
  event_id: z.string().nullable(),
  request_id: z.string().nullable(),
  trigger_event: z.string().describe('the event that ran the script; test:<type> for a test run'),
  status: z.enum(['succeeded', 'failed', 'timed_out']),
  duration_ms: z.number().int(),
  logs: z.array(z.object({ level: z.enum(['info', 'warn', 'error']), message: z.string(), at: instant })),
  error: z.string().nullable(),
  started_at: instant,
});

export const listScriptsQuery = pageQuery.extend({ q: searchText.optional().describe('part of the script name, any case') });
export const listRunsQuery = pageQuery.extend({ request_id: z.uuid().optional().describe('runs for one access request') });

const configKey = z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)?$/, 'must be a config key such as requester_email or field.ticket');
export const testRunIn = z
  .strictObject({
    event: z
      .strictObject({
        type: z.enum(SCRIPT_EVENT_TYPES).default('approved'),
        config: z.record(configKey, z.string().max(10_000)).default({}).describe('overrides of the sample config values'),
      })
      .optional(),
  })
  .nullish();
export type TestRunIn = z.infer<typeof testRunIn>;

export function toScriptOut(row: ScriptRow, secretIdsOfScript: string[]) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    source: row.source,
    allowed_hosts: JSON.parse(row.allowed_hosts) as string[],
    secret_ids: secretIdsOfScript,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export function toSecretOut(row: ScriptSecretRow, scriptIds: string[]) {
  return { id: row.id, name: row.name, script_ids: scriptIds, created_at: toIso(row.created_at), updated_at: toIso(row.updated_at) };
}

export function toRunOut(row: ScriptRunRow) {
  const logs = JSON.parse(row.logs) as ScriptLog[];
  return {
    id: row.id,
    script_id: row.script_id,
    event_id: row.event_id,
    request_id: row.request_id,
    trigger_event: row.trigger_event,
    status: row.status,
    duration_ms: row.duration_ms,
    logs: logs.map((l) => ({ level: l.level, message: l.message, at: toIso(l.at) })),
    error: row.error,
    started_at: toIso(row.started_at),
  };
}
