import type { Core } from '../../core.ts';
import type { Executor, Tx } from '../../db/database.ts';
import { isUniqueViolation, lockRow } from '../../db/locks.ts';
import { assertThat, conflict, forbidden, invalidField, notFound } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import { toIso } from '../../http/schemas.ts';
import { newId } from '../../security/ids.ts';
import type { Actor } from '../../http/actor.ts';
import { createApplicationsRepo } from '../applications/applications.repo.ts';
import { createResourceServersRepo, type ResourceServer } from './resource-servers.repo.ts';
import { BUILT_IN_RESOURCE_SERVER_IDS, type CreateResourceServerIn, type UpdateResourceServerIn } from './resource-servers.types.ts';

/**
 * The registry of resource servers: the APIs clients may ask access tokens for with a
 * resource indicator, the scopes each accepts and the applications that may ask.
 * Admin only; every change is audited. The token endpoint refuses any other resource.
 */
export function createResourceServersService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>) {
  const { db, clock, audit, dialect } = core;

  async function assertAppsLive(executor: Executor, appIds: readonly string[]): Promise<void> {
    const apps = createApplicationsRepo(executor);
    for (const id of appIds) assertThat(await apps.findLive(id), invalidField('app_ids', `no live application has the id ${id}`));
  }

  async function lockExisting(trx: Tx, id: string): Promise<ResourceServer> {
    await lockRow(trx, dialect, 'resource_servers', 'id', id);
    const server = await createResourceServersRepo(trx).findById(id);
    assertThat(server, notFound('resource server'));
    return server;
  }

  const builtIn = (what: string) => conflict('built_in', `a built-in resource server: ${what}`);
  const audienceTaken = (error: unknown) => (isUniqueViolation(error) ? conflict('audience_taken', 'another resource server has this audience') : error);

  return {
    list: async (actor: Actor, page: PageQuery & { q?: string }) => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await createResourceServersRepo(db).list(page), page.limit);
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const server = await createResourceServersRepo(db).findById(id);
      assertThat(server, notFound('resource server'));
      return server;
    },

    create: async (actor: Actor, input: CreateResourceServerIn): Promise<ResourceServer> => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const server: ResourceServer = { id: newId(clock), ...input, created_at: now, updated_at: now };
      try {
        await db.transaction().execute(async (trx) => {
          await assertAppsLive(trx, input.app_ids);
          await createResourceServersRepo(trx).insert(server);
          await audit.append(trx, { actor, action: 'resource_server.created', targetType: 'resource_server', targetId: server.id, data: auditFields(server) });
        });
      } catch (error) {
        throw audienceTaken(error);
      }
      return (await createResourceServersRepo(db).findById(server.id))!;
    },

    update: async (actor: Actor, id: string, input: UpdateResourceServerIn): Promise<ResourceServer> => {
      assertThat(actor.isAdmin, forbidden());
      try {
        await db.transaction().execute(async (trx) => {
          const before = await lockExisting(trx, id);
          assertThat(!BUILT_IN_RESOURCE_SERVER_IDS.has(id) || (input.audience === undefined && input.scopes === undefined), builtIn('its audience and scopes cannot change; only its name, description and app_ids'));
          if (input.app_ids) await assertAppsLive(trx, input.app_ids);
          const repo = createResourceServersRepo(trx);
          await repo.update(id, { ...input, updated_at: clock.now() });
          const after = (await repo.findById(id))!;
          await audit.append(trx, { actor, action: 'resource_server.updated', targetType: 'resource_server', targetId: id, data: { before: auditFields(before), after: auditFields(after) } });
        });
      } catch (error) {
        throw audienceTaken(error);
      }
      return (await createResourceServersRepo(db).findById(id))!;
    },

    /** Tokens already issued for it stay valid until they expire; no new ones are issued. */
    remove: async (actor: Actor, id: string): Promise<void> => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        const before = await lockExisting(trx, id);
        assertThat(!BUILT_IN_RESOURCE_SERVER_IDS.has(id), builtIn('it cannot be deleted'));
        await createResourceServersRepo(trx).delete(id);
        await audit.append(trx, { actor, action: 'resource_server.deleted', targetType: 'resource_server', targetId: id, data: auditFields(before) });
      });
    },
  };
}
export type ResourceServersService = ReturnType<typeof createResourceServersService>;

function auditFields(s: ResourceServer) {
  return { audience: s.audience, name: s.name, scopes: s.scopes, app_ids: s.app_ids };
}

export function toResourceServerOut(s: ResourceServer) {
  return { ...s, created_at: toIso(s.created_at), updated_at: toIso(s.updated_at) };
}
