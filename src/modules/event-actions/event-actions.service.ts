import type { Core } from '../../core.ts';
import { lockRow } from '../../db/locks.ts';
import { assertThat, badRequest, conflict, forbidden, notFound, type FieldError } from '../../http/errors.ts';
import { toPage } from '../../http/pagination.ts';
import type { Encrypter } from '../../security/encryption.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import { generateWebhookSecret } from './webhook-signature.ts';
import { actionSecretAt, createEventActionsRepo, type EventActionsRepo } from './event-actions.repo.ts';
import { outboundUrlError } from './event-actions.rules.ts';
import {
  auditFields,
  canonicalEventTypes,
  configPatchSchemas,
  type ActionTarget,
  type CreateEventActionIn,
  type EventAction,
  type ListEventActionsQuery,
  type UpdateEventActionIn,
} from './event-actions.types.ts';

export interface EventActionsDeps {
  encrypter: Pick<Encrypter, 'encrypt'>;
  /** config.outbound.allowPrivate: plain http and private hosts are accepted (development, tests). */
  allowPrivate: boolean;
}

/** The kind and its validated config, as on create (distributes over the kinds). */
type TargetIn = CreateEventActionIn extends infer T ? (T extends CreateEventActionIn ? Pick<T, 'kind' | 'config'> : never) : never;

interface ResolvedTarget {
  target: ActionTarget;
  secretEncrypted: string | null;
  /** A webhook secret made or set now: shown to the admin once. */
  signingSecret: string | null;
}

const validationFailed = (errors: FieldError[]) => badRequest('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
const notWebhook = () => conflict('not_a_webhook', 'only webhook actions have a signing secret');

/** Admin management of event actions: rules that send a webhook, Slack message, email or script run on request events. */
export function createEventActionsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, deps: EventActionsDeps) {
  const { db, dialect, clock, audit } = core;
  const actions = createEventActionsRepo(db);

  /**
   * What gets stored for the kind: the public config, and the secret sealed with the
   * master key. `current` is the action being changed: a webhook keeps its signing secret.
   */
  async function resolveTarget(repo: EventActionsRepo, input: TargetIn, actionId: string, current?: EventAction): Promise<ResolvedTarget | FieldError[]> {
    switch (input.kind) {
      case 'webhook': {
        const problem = outboundUrlError(input.config.url, deps);
        if (problem) return [{ field: 'config.url', message: problem }];
        // Kept as the admin wrote it (it was checked to parse), as redirect URIs are: a read
        // returns exactly what was written, so a Terraform plan compares like with like.
        const target: ActionTarget = { kind: 'webhook', config: { url: input.config.url } };
        if (current?.kind === 'webhook' && current.secret_encrypted !== null) return { target, secretEncrypted: current.secret_encrypted, signingSecret: null };
        const secret = input.config.signing_secret ?? generateWebhookSecret();
        return { target, secretEncrypted: deps.encrypter.encrypt(secret, actionSecretAt(actionId)), signingSecret: secret };
      }
      case 'slack': {
        const problem = outboundUrlError(input.config.webhook_url, deps);
        if (problem) return [{ field: 'config.webhook_url', message: problem }];
        const url = new URL(input.config.webhook_url);
        return { target: { kind: 'slack', config: { webhook_url_host: url.host } }, secretEncrypted: deps.encrypter.encrypt(url.href, actionSecretAt(actionId)), signingSecret: null };
      }
      case 'slack_app':
        return { target: { kind: 'slack_app', config: { channel: input.config.channel } }, secretEncrypted: null, signingSecret: null };
      case 'email': {
        const { recipients, addresses } = input.config;
        return { target: { kind: 'email', config: { recipients, ...(addresses ? { addresses } : {}) } }, secretEncrypted: null, signingSecret: null };
      }
      case 'script': {
        const id = input.config.script_id;
        if (!(await repo.scriptIsLive(id))) return [{ field: 'config.script_id', message: `no live script has the id ${id}` }];
        return { target: { kind: 'script', config: { script_id: id } }, secretEncrypted: null, signingSecret: null };
      }
    }
  }

  async function templateErrors(repo: EventActionsRepo, templateId: string | null): Promise<FieldError[]> {
    if (templateId === null || (await repo.templateIsLive(templateId))) return [];
    return [{ field: 'template_id', message: `no live template has the id ${templateId}` }];
  }

  /** A PATCH config is checked against the schema of the action's kind, with field names under `config.`. */
  async function patchedTarget(repo: EventActionsRepo, current: EventAction, config: Record<string, unknown>): Promise<ResolvedTarget | FieldError[]> {
    if (current.kind === 'webhook' && 'signing_secret' in config) {
      return [{ field: 'config.signing_secret', message: 'change it with POST /api/v1/event-actions/{id}/rotate-secret' }];
    }
    const parsed = configPatchSchemas[current.kind].safeParse(config);
    if (!parsed.success) return parsed.error.issues.map((i) => ({ field: ['config', ...i.path.map(String)].join('.'), message: i.message }));
    return resolveTarget(repo, { kind: current.kind, config: parsed.data } as TargetIn, current.id, current);
  }

  async function findForChange(repo: EventActionsRepo, trx: Parameters<typeof lockRow>[0], id: string): Promise<EventAction> {
    await lockRow(trx, dialect, 'event_actions', 'id', id);
    const action = await repo.findLiveById(id);
    assertThat(action, notFound('event action'));
    return action;
  }

  return {
    list: async (actor: Actor, query: ListEventActionsQuery) => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await actions.list(query), query.limit);
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const action = await actions.findLiveById(id);
      assertThat(action, notFound('event action'));
      return action;
    },

    /** Returns the webhook signing secret too: the only time it is shown. */
    create: async (actor: Actor, input: CreateEventActionIn): Promise<{ action: EventAction; signingSecret: string | null }> => {
      assertThat(actor.isAdmin, forbidden());
      const id = newId(clock);
      const resolved = await resolveTarget(actions, input, id);
      const errors = [...(await templateErrors(actions, input.template_id)), ...(Array.isArray(resolved) ? resolved : [])];
      assertThat(errors.length === 0 && !Array.isArray(resolved), validationFailed(errors));
      const now = clock.now();
      const action: EventAction = {
        id,
        name: input.name,
        enabled: input.enabled,
        event_types: canonicalEventTypes(input.event_types),
        template_id: input.template_id,
        ...resolved.target,
        secret_encrypted: resolved.secretEncrypted,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await createEventActionsRepo(trx).insert(action);
        await audit.append(trx, { actor, action: 'event_action.created', targetType: 'event_action', targetId: action.id, data: auditFields(action) });
      });
      return { action, signingSecret: resolved.signingSecret };
    },

    /** Any subset of the rule; `config` replaces the kind's config whole. The kind itself never changes. */
    update: async (actor: Actor, id: string, input: UpdateEventActionIn): Promise<EventAction> => {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        const repo = createEventActionsRepo(trx);
        const before = await findForChange(repo, trx, id);
        const errors: FieldError[] = [];
        if (input.kind !== undefined && input.kind !== before.kind) errors.push({ field: 'kind', message: `cannot change a ${before.kind} action; create a new event action` });
        // A template deleted since the rule was made does not block edits that leave it alone.
        if (input.template_id !== undefined && input.template_id !== before.template_id) errors.push(...(await templateErrors(repo, input.template_id)));
        const resolved = input.config === undefined ? undefined : await patchedTarget(repo, before, input.config);
        if (Array.isArray(resolved)) errors.push(...resolved);
        assertThat(errors.length === 0 && !Array.isArray(resolved), validationFailed(errors));

        const after: EventAction = {
          ...before,
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
          ...(input.event_types !== undefined ? { event_types: canonicalEventTypes(input.event_types) } : {}),
          ...(input.template_id !== undefined ? { template_id: input.template_id } : {}),
          ...(resolved ? { ...resolved.target, secret_encrypted: resolved.secretEncrypted } : {}),
          updated_at: clock.now(),
        };
        await repo.replace(after);
        await audit.append(trx, {
          actor,
          action: 'event_action.updated',
          targetType: 'event_action',
          targetId: id,
          // A replaced Slack URL shows only as a flag: its host may stay the same.
          data: { before: auditFields(before), after: auditFields(after), ...(after.kind === 'slack' && resolved ? { webhook_url_replaced: true } : {}) },
        });
        return after;
      });
    },

    /** Soft delete: deliveries and audit events keep pointing at the row. */
    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        const repo = createEventActionsRepo(trx);
        const action = await findForChange(repo, trx, id);
        await repo.softDelete(id, clock.now());
        await audit.append(trx, { actor, action: 'event_action.deleted', targetType: 'event_action', targetId: id, data: auditFields(action) });
      });
    },

    /** A new signing secret (given or generated) replaces the old one at once; it is returned this once. */
    rotateSecret: async (actor: Actor, id: string, input: { signing_secret?: string } | null | undefined) => {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        const repo = createEventActionsRepo(trx);
        const before = await findForChange(repo, trx, id);
        assertThat(before.kind === 'webhook', notWebhook());
        const secret = input?.signing_secret ?? generateWebhookSecret();
        const action: EventAction = { ...before, secret_encrypted: deps.encrypter.encrypt(secret, actionSecretAt(id)), updated_at: clock.now() };
        await repo.replace(action);
        await audit.append(trx, {
          actor,
          action: 'event_action.secret_rotated',
          targetType: 'event_action',
          targetId: id,
          data: { name: action.name, secret_given: input?.signing_secret !== undefined },
        });
        return { action, signingSecret: secret };
      });
    },
  };
}
export type EventActionsService = ReturnType<typeof createEventActionsService>;
