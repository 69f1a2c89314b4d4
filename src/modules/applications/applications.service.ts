import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { isUniqueViolation, lockRow } from '../../db/locks.ts';
import { assertThat, conflict, forbidden, notFound } from '../../http/errors.ts';
import { toPage } from '../../http/pagination.ts';
import { toIso } from '../../http/schemas.ts';
import { newId } from '../../security/ids.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import type { Actor } from '../../http/actor.ts';
import type { ClaimsWatch } from '../groups/claims-watch.types.ts';
import { createMappingsRepo, mappingLinksOfAppQuery } from '../mappings/mappings.repo.ts';
import type { MappingRetirement } from '../mappings/mappings.service.ts';
import { createApplicationsRepo, type Application } from './applications.repo.ts';
import { clientShapeProblem, isConfidential } from './applications.rules.ts';
import { backchannelLogoutUriPolicyError } from './backchannel-logout.rules.ts';
import { CLIENT_SECRET_PREFIX, type CreateApplicationIn, type ListApplicationsQuery, type UpdateApplicationIn } from './applications.types.ts';

const nameTaken = () => conflict('application_name_taken', 'an application with this name already exists');

/** The unique index on live names answers a race that a check-then-insert would lose. */
async function uniqueName<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

export interface ApplicationWithSecret {
  app: Application;
  /** Set only when a secret was just issued: the one time it is ever shown. */
  clientSecret?: string;
}

/** Applications are OIDC clients; the application id is the client_id. Admin only. */
export function createApplicationsService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>, hooks: MappingRetirement, claims: ClaimsWatch, outbound: { allowPrivate: boolean } = { allowPrivate: false }) {
  const { db, clock, audit, dialect } = core;

  /** Locks the row and re-reads it inside the transaction (authorize → load → lock → re-check). */
  async function lockLive(trx: Tx, id: string): Promise<Application> {
    await lockRow(trx, dialect, 'applications', 'id', id);
    const app = await createApplicationsRepo(trx).findLive(id);
    assertThat(app, notFound('application'));
    return app;
  }

  function newSecret(): { secret: string; hash: string } {
    const secret = randomSecret(CLIENT_SECRET_PREFIX);
    return { secret, hash: sha256(secret) };
  }

  return {
    list: async (actor: Actor, query: ListApplicationsQuery) => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await createApplicationsRepo(db).list(query), query.limit);
    },

    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      const app = await createApplicationsRepo(db).findLive(id);
      assertThat(app, notFound('application'));
      return app;
    },

    create: async (actor: Actor, input: CreateApplicationIn): Promise<ApplicationWithSecret> => {
      assertThat(actor.isAdmin, forbidden());
      const problem = clientShapeProblem(input) ?? backchannelLogoutUriPolicyError(input.backchannel_logout_uri, outbound);
      if (problem) throw problem;
      const secret = isConfidential(input.token_endpoint_auth_method) ? newSecret() : undefined;
      const now = clock.now();
      const app: Application = { id: newId(clock), ...input, client_secret_hash: secret?.hash ?? null, created_at: now, updated_at: now, deleted_at: null };
      await uniqueName(() =>
        db.transaction().execute(async (trx) => {
          await createApplicationsRepo(trx).insert(app);
          await audit.append(trx, { actor, action: 'application.created', targetType: 'application', targetId: app.id, data: publicFields(app) });
        }),
      );
      return { app, clientSecret: secret?.secret };
    },

    /**
     * Switching a public client to a confidential method issues a secret (returned once,
     * like create), and switching to `none` drops it: a client has a secret exactly when
     * its method needs one, so the OIDC layer never meets a confidential client without one.
     */
    update: async (actor: Actor, id: string, input: UpdateApplicationIn): Promise<ApplicationWithSecret> => {
      assertThat(actor.isAdmin, forbidden());
      return uniqueName(() =>
        db.transaction().execute(async (trx) => {
          const before = await lockLive(trx, id);
          const merged = { ...before, ...input };
          const problem = clientShapeProblem(merged) ?? backchannelLogoutUriPolicyError(input.backchannel_logout_uri, outbound);
          if (problem) throw problem;
          const patch: Partial<Application> = { ...input, updated_at: clock.now() };
          let secret: { secret: string; hash: string } | undefined;
          if (!isConfidential(merged.token_endpoint_auth_method)) patch.client_secret_hash = null;
          else if (!isConfidential(before.token_endpoint_auth_method)) {
            secret = newSecret();
            patch.client_secret_hash = secret.hash;
          }
          await createApplicationsRepo(trx).update(id, patch);
          const after: Application = { ...before, ...patch };
          await audit.append(trx, {
            actor,
            action: 'application.updated',
            targetType: 'application',
            targetId: id,
            data: { before: publicFields(before), after: publicFields(after), secret_issued: Boolean(secret) },
          });
          return { app: after, clientSecret: secret?.secret };
        }),
      );
    },

    /** A new secret replaces the old one at once; the old one stops working. */
    rotateSecret: async (actor: Actor, id: string): Promise<ApplicationWithSecret & { clientSecret: string }> => {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        const before = await lockLive(trx, id);
        assertThat(isConfidential(before.token_endpoint_auth_method), conflict('public_client', 'a public client (token_endpoint_auth_method none) has no secret to rotate'));
        const secret = newSecret();
        const patch = { client_secret_hash: secret.hash, updated_at: clock.now() };
        await createApplicationsRepo(trx).update(id, patch);
        await audit.append(trx, { actor, action: 'application.secret_rotated', targetType: 'application', targetId: id, data: { name: before.name } });
        return { app: { ...before, ...patch }, clientSecret: secret.secret };
      });
    },

    /**
     * Soft delete: audit rows keep pointing at the application and the OIDC layer treats
     * a deleted client as unknown. Its mappings go with it.
     */
    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      await db.transaction().execute(async (trx) => {
        const app = await lockLive(trx, id);
        const now = clock.now();
        const owned = await createMappingsRepo(trx).idsOfApp(id);
        // Everyone its mappings reach loses their claims there: told once each, grants it ends included.
        const fed = [...new Set((await mappingLinksOfAppQuery(trx, id).execute()).map((l) => l.group_id))];
        const watch = await claims.before(trx, { groupIds: fed, appIds: [id] });
        // Refused while a template grants them; grants still linking them (from since-edited templates) end with them.
        await hooks.mappingsRetiring(trx, owned, 'application', actor);
        await createApplicationsRepo(trx).update(id, { deleted_at: now, updated_at: now });
        const mappingIds = await createMappingsRepo(trx).deleteByApp(id);
        await watch.changed('the application was deleted', 'admin');
        await audit.append(trx, { actor, action: 'application.deleted', targetType: 'application', targetId: id, data: { name: app.name, mapping_ids: mappingIds } });
      });
    },
  };
}
export type ApplicationsService = ReturnType<typeof createApplicationsService>;

/** Everything but the secret hash: what audit rows may record. */
function publicFields(app: Application) {
  return {
    name: app.name,
    description: app.description,
    redirect_uris: app.redirect_uris,
    post_logout_redirect_uris: app.post_logout_redirect_uris,
    grant_types: app.grant_types,
    token_endpoint_auth_method: app.token_endpoint_auth_method,
    id_token_signed_response_alg: app.id_token_signed_response_alg,
    access_token_ttl_secs: app.access_token_ttl_secs,
    id_token_ttl_secs: app.id_token_ttl_secs,
    refresh_token_ttl_secs: app.refresh_token_ttl_secs,
    first_party: app.first_party,
    backchannel_logout_uri: app.backchannel_logout_uri,
    backchannel_logout_session_required: app.backchannel_logout_session_required,
  };
}

export function toApplicationOut(app: Application) {
  return { id: app.id, client_id: app.id, ...publicFields(app), created_at: toIso(app.created_at), updated_at: toIso(app.updated_at) };
}

export function toApplicationWithSecretOut({ app, clientSecret }: ApplicationWithSecret) {
  return clientSecret === undefined ? toApplicationOut(app) : { ...toApplicationOut(app), client_secret: clientSecret };
}
