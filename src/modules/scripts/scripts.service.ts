import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import { assertThat, conflict, forbidden, invalidField, notFound } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import { createSandboxPool, type Sandbox } from '../../sandbox/pool.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import { sampleScriptConfig } from './sample-config.ts';
import { createScriptSecretsService } from './script-secrets.service.ts';
import { createScriptsRepo, createScriptSecretsRepo, scriptSecretAt, type ScriptRow, type ScriptRunRow } from './scripts.repo.ts';
import { toRunOut, toScriptOut, type CreateScriptIn, type TestRunIn, type UpdateScriptIn } from './scripts.types.ts';

export type ScriptRun = ReturnType<typeof toRunOut>;

export interface RunScriptInput {
  eventId: string | null;
  requestId: string | null;
  /** The short event name (approved, revoked …), or test:<type> for a test run. */
  triggerEvent: string;
  /** What config.get answers: see docs/scripts.md (events/script-config.ts builds it from an event). */
  config: Record<string, string>;
  /** Called when a sandbox worker takes the run, after any wait in the pool's queue. */
  onStart?: () => void;
}

export interface ScriptsDeps {
  encrypter: Encrypter;
  config: Pick<Config, 'scripts' | 'outbound'>;
  /** The sandbox to run in; by default a worker pool sized by config.scripts. */
  sandbox?: Sandbox;
  /** The live templates whose trigger task is this script (templates sits above scripts): such a script cannot be deleted. */
  templatesUsing(trx: Tx, scriptId: string): Promise<{ id: string; name: string }[]>;
}

/**
 * Scripts (trigger tasks and event-action scripts), their secrets and their runs. Admin
 * only. runScript is what the dispatcher calls; close() stops the sandbox's workers.
 */
export function createScriptsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, deps: ScriptsDeps) {
  const { db, dialect, clock, audit } = core;
  const scripts = createScriptsRepo(db);
  const sandbox =
    deps.sandbox ??
    createSandboxPool(
      { workers: deps.config.scripts.workers, memoryMb: deps.config.scripts.memoryMb, timeoutMs: deps.config.scripts.timeoutMs, outbound: deps.config.outbound },
      clock,
    );

  async function loadLive(id: string): Promise<ScriptRow> {
    const row = await scripts.findLive(id);
    assertThat(row, notFound('script'));
    return row;
  }

  async function present(rows: ScriptRow[]) {
    const grants = await scripts.grantsOf(rows.map((r) => r.id));
    return rows.map((r) => toScriptOut(r, grants.get(r.id) ?? []));
  }

  /** Every id must name an existing secret; the error names the first that does not. */
  async function assertSecretsExist(executor: typeof db, ids: string[]): Promise<void> {
    const found = new Set(await createScriptSecretsRepo(executor).existing(ids));
    const missing = ids.find((id) => !found.has(id));
    assertThat(missing === undefined, invalidField('secret_ids', `no script secret has the id ${missing}`));
  }

  async function runScript(scriptId: string, input: RunScriptInput): Promise<ScriptRun> {
    const script = await loadLive(scriptId);
    const sealed = await scripts.grantedSecrets(scriptId);
    const secrets: Record<string, string> = {};
    const unreadable: string[] = [];
    for (const s of sealed) {
      try {
        secrets[s.name] = deps.encrypter.decrypt(s.value_encrypted, scriptSecretAt(s.id));
      } catch {
        unreadable.push(s.name);
      }
    }
    const result = unreadable.length
      ? { status: 'failed' as const, startedAt: clock.now(), durationMs: 0, logs: [], error: `granted secrets could not be decrypted with the current master key: ${unreadable.join(', ')}` }
      : await sandbox.run({ source: script.source, config: input.config, secrets, allowedHosts: JSON.parse(script.allowed_hosts) as string[] }, { onStart: input.onStart });
    const row: ScriptRunRow = {
      id: newId(clock),
      script_id: scriptId,
      event_id: input.eventId,
      request_id: input.requestId,
      trigger_event: input.triggerEvent,
      status: result.status,
      duration_ms: result.durationMs,
      logs: JSON.stringify(result.logs),
      error: result.error,
      started_at: result.startedAt,
    };
    await scripts.insertRun(row);
    return toRunOut(row);
  }

  return {
    secrets: createScriptSecretsService(core, { encrypter: deps.encrypter }),

    list: async (actor: Actor, page: PageQuery & { q?: string }) => {
      assertThat(actor.isAdmin, forbidden());
      const result = toPage(await scripts.list(page), page.limit);
      return { items: await present(result.items), next_cursor: result.next_cursor };
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      return (await present([await loadLive(id)]))[0]!;
    },

    create: async (actor: Actor, input: CreateScriptIn) => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const hosts = [...new Set(input.allowed_hosts)];
      const secretIds = [...new Set(input.secret_ids)].sort();
      const row: ScriptRow = {
        id: newId(clock),
        name: input.name,
        description: input.description,
        source: input.source,
        allowed_hosts: JSON.stringify(hosts),
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await assertSecretsExist(trx, secretIds);
        const repo = createScriptsRepo(trx);
        await repo.insert(row);
        await repo.replaceGrants(row.id, secretIds);
        await audit.append(trx, { actor, action: 'script.created', targetType: 'script', targetId: row.id, data: auditFields(row, secretIds) });
      });
      return toScriptOut(row, secretIds);
    },

    update: async (actor: Actor, id: string, input: UpdateScriptIn) => {
      assertThat(actor.isAdmin, forbidden());
      const { row, secretIds } = await db.transaction().execute(async (trx) => {
        const repo = createScriptsRepo(trx);
        await lockRow(trx, dialect, 'scripts', 'id', id);
        const before = await repo.findLive(id);
        assertThat(before, notFound('script'));
        const beforeSecrets = (await repo.grantsOf([id])).get(id) ?? [];
        const patch: Partial<ScriptRow> = { updated_at: clock.now() };
        if (input.name !== undefined) patch.name = input.name;
        if (input.description !== undefined) patch.description = input.description;
        if (input.source !== undefined) patch.source = input.source;
        if (input.allowed_hosts !== undefined) patch.allowed_hosts = JSON.stringify([...new Set(input.allowed_hosts)]);
        let secretIds = beforeSecrets;
        if (input.secret_ids !== undefined) {
          secretIds = [...new Set(input.secret_ids)].sort();
          await assertSecretsExist(trx, secretIds);
          await repo.replaceGrants(id, secretIds);
        }
        await repo.update(id, patch);
        const after = { ...before, ...patch };
        await audit.append(trx, {
          actor,
          action: 'script.updated',
          targetType: 'script',
          targetId: id,
          data: { before: auditFields(before, beforeSecrets), after: auditFields(after, secretIds) },
        });
        return { row: after, secretIds };
      });
      return toScriptOut(row, secretIds);
    },

    /** Soft delete: run records keep pointing at the script. A template's trigger task blocks it. */
    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        const repo = createScriptsRepo(trx);
        await lockRow(trx, dialect, 'scripts', 'id', id);
        const before = await repo.findLive(id);
        assertThat(before, notFound('script'));
        const templates = await deps.templatesUsing(trx, id);
        assertThat(
          templates.length === 0,
          conflict('script_in_use', `access-request templates run this script: ${templates.map((t) => t.name).join(', ')}`, { templates }),
        );
        const now = clock.now();
        await repo.update(id, { deleted_at: now, updated_at: now });
        await repo.revokeAllGrants(id);
        await audit.append(trx, { actor, action: 'script.deleted', targetType: 'script', targetId: id, data: { name: before.name } });
      });
    },

    listRuns: async (actor: Actor, scriptId: string, page: PageQuery) => {
      assertThat(actor.isAdmin, forbidden());
      await loadLive(scriptId);
      const result = toPage(await scripts.listRuns({ ...page, scriptId }), page.limit);
      return { items: result.items.map(toRunOut), next_cursor: result.next_cursor };
    },

    listRunsByRequest: async (actor: Actor, page: PageQuery & { request_id?: string }) => {
      assertThat(actor.isAdmin, forbidden());
      const result = toPage(await scripts.listRuns({ ...page, requestId: page.request_id }), page.limit);
      return { items: result.items.map(toRunOut), next_cursor: result.next_cursor };
    },

    /** Runs the script now against a sample event and records the run as test:<type>. */
    testRun: async (actor: Actor, id: string, input: TestRunIn) => {
      assertThat(actor.isAdmin, forbidden());
      const type = input?.event?.type ?? 'approved';
      const config = sampleScriptConfig(type, clock.now(), input?.event?.config);
      return runScript(id, { eventId: null, requestId: null, triggerEvent: `test:${type}`, config });
    },

    /**
     * For the dispatcher: runs a script with its granted secrets, records the run and
     * returns it. A failing, timed-out or misbehaving script is a run with that status,
     * never an exception; it throws only when the script does not exist (404) or the
     * sandbox is closed or overloaded.
     */
    runScript,

    /** How many script runs would start at once now (the dispatcher claims no more than this). */
    freeCapacity: () => sandbox.freeCapacity(),

    close: () => sandbox.close(),
  };
}
export type ScriptsService = ReturnType<typeof createScriptsService>;

function auditFields(row: ScriptRow, secretIds: string[]) {
  return {
    name: row.name,
    description: row.description,
    allowed_hosts: JSON.parse(row.allowed_hosts) as string[],
    secret_ids: secretIds,
    // The source itself can be 256 KiB; its digest is enough to tell versions apart.
    source_sha256: createHash('sha256').update(row.source).digest('hex'),
    source_bytes: Buffer.byteLength(row.source, 'utf8'),
  };
}
