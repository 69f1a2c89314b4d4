import type { Tx } from '../../db/database.ts';
import { lockSelected } from '../../db/locks.ts';
import { conflict } from '../../http/errors.ts';
import type { AuditActor } from '../../http/actor.ts';
import { createTemplatesRepo, liveTemplatesGranting, templateIdsGrantingQuery, templateIdsOfAppQuery } from '../templates/templates.repo.ts';
import { groupIdsLinkedToQuery } from '../mappings/mappings.repo.ts';
import type { TemplateHooks } from '../templates/templates.service.ts';
import type { MappingRetirement } from '../mappings/mappings.service.ts';
import type { UserHooks } from '../users/users.service.ts';
import type { EventCore } from './request-events.ts';
import { cancelPending, endAccess, retireProvisioning } from './transitions.ts';

/** Something a request stands on. When it is deleted or disabled, the request cannot stand. */
export type Backing =
  | { kind: 'user'; id: string }
  | { kind: 'application'; id: string }
  | { kind: 'mapping'; id: string }
  | { kind: 'template'; id: string };

const REASONS: Record<Backing['kind'], string> = {
  user: 'the requester was disabled or deleted',
  application: 'the application was deleted',
  mapping: 'a mapping the grant gives was deleted',
  template: 'the template was disabled or deleted',
};

/**
 * In the caller's transaction: revokes the live grants and cancels the open requests
 * that stand on the given user, application, mapping or template, each with its own
 * `revoked`/`cancelled` event, so nothing keeps access — or waits for a decision — on
 * something that is gone. A request whose blocking trigger task is running is cancelled
 * too, so the run's finish cannot grant (it owes the external system an undo instead).
 * Returns how many requests it ended.
 */
export async function endRequestsBackedBy(core: EventCore, trx: Tx, backing: Backing, actor: AuditActor): Promise<number> {
  let query = trx.selectFrom('access_requests as r').selectAll('r').where('r.status', 'in', ['pending', 'provisioning', 'approved']);
  switch (backing.kind) {
    case 'user':
      query = query.where('r.requester_id', '=', backing.id);
      break;
    case 'template':
      query = query.where('r.template_id', '=', backing.id);
      break;
    case 'application':
      query = query.where('r.template_id', 'in', templateIdsOfAppQuery(trx, backing.id));
      break;
    case 'mapping':
      // Approved requests link the mapping to their grant group; open ones name it in the template.
      query = query.where((eb) =>
        eb.or([
          eb('r.grant_group_id', 'in', groupIdsLinkedToQuery(trx, backing.id)),
          eb.and([eb('r.status', 'in', ['pending', 'provisioning']), eb('r.template_id', 'in', templateIdsGrantingQuery(trx, backing.id))]),
        ]),
      );
      break;
  }
  // Wait for, rather than skip, rows a decision holds: a grant must not slip through.
  const requests = await lockSelected(query.orderBy('r.id'), core.dialect).execute();
  // One `claims_changed` per (user, application) for all the grants this ends, with the claims after the last.
  core.recordSignals?.hold(trx);
  let ended = 0;
  for (const request of requests) {
    const reason = REASONS[backing.kind];
    const done =
      request.status === 'approved'
        ? await endAccess(core, trx, request, { event: 'revoke', actor, reason })
        : request.status === 'provisioning'
          ? await retireProvisioning(core, trx, request, actor, reason)
          : await cancelPending(core, trx, request, actor, reason, 'retire');
    if (done) ended++;
  }
  await core.recordSignals?.flush(trx);
  return ended;
}

/** The live templates that grant any of these mappings: such mappings (and their app) cannot be deleted. */
export async function assertMappingsUnused(trx: Tx, mappingIds: readonly string[], what: 'mapping' | 'application'): Promise<void> {
  if (mappingIds.length === 0) return;
  const templates = await liveTemplatesGranting(trx, mappingIds);
  if (templates.length) {
    throw conflict(`${what}_in_use`, `access-request templates grant this ${what}: ${templates.map((t) => t.name).join(', ')}`, { templates });
  }
}

/** Hooks for the mappings and applications modules: a mapping a live template grants stays; else its requests end. */
export function mappingRetirement(core: EventCore): MappingRetirement {
  return {
    async mappingsRetiring(trx, mappingIds, what, actor) {
      await assertMappingsUnused(trx, mappingIds, what);
      for (const id of mappingIds) await endRequestsBackedBy(core, trx, { kind: 'mapping', id }, actor);
    },
  };
}

/** Hooks for the users module: a disabled or deleted requester's grants and open requests end. */
export function requestUserHooks(core: EventCore): Pick<UserHooks, 'userRetired'> {
  return {
    async userRetired(trx, userId, actor) {
      // No `claims_changed` here: the account's own signals (account_disabled / account_purged) say it.
      const quiet: EventCore = { audit: core.audit, clock: core.clock, dialect: core.dialect, baseUrl: core.baseUrl };
      await endRequestsBackedBy(quiet, trx, { kind: 'user', id: userId }, actor);
    },
  };
}

/**
 * Hooks for the templates module. A template that is disabled or deleted ends its
 * requests; a deleted one also lets go of its groups and mappings, so those can be
 * deleted later (its ended requests keep their snapshot and audit trail).
 */
export function templateHooks(core: EventCore): TemplateHooks {
  return {
    async templateRetired(trx, template, reason, actor) {
      await endRequestsBackedBy(core, trx, { kind: 'template', id: template.id }, actor);
      if (reason !== 'deleted') return;
      await createTemplatesRepo(trx).releaseLinks(template.id);
    },
  };
}
