import type { Core } from '../../core.ts';
import type { Tx } from '../../db/database.ts';
import { AppError, assertThat, forbidden, invalidField, notFound, unauthenticated } from '../../http/errors.ts';
import { toPage } from '../../http/pagination.ts';
import { name as nameSchema, parseInstant, toIso, toIsoOrNull } from '../../http/schemas.ts';
import { newId } from '../../security/ids.ts';
import { randomSecret, sha256 } from '../../security/tokens.ts';
import { SYSTEM, type Actor, type AuditActor } from '../../http/actor.ts';
import { createUsersRepo, lockUser, type UserRow } from '../users/users.repo.ts';
import { assertLifetimeAllowed, readApiTokenPolicy } from './api-tokens.policy.ts';
import { createApiTokensRepo, type ApiTokenRow } from './api-tokens.repo.ts';
import { API_TOKEN_PREFIX, type CreateApiTokenIn, type ListApiTokensQuery } from './api-tokens.types.ts';

export type ListedApiToken = ApiTokenRow & { user_email: string };

export interface IssuedApiToken {
  row: ListedApiToken;
  /** The plaintext token: returned once, never stored. */
  token: string;
}

export function createApiTokensService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>) {
  const { db, clock, audit, dialect } = core;

  /** Locks the owner's row and re-reads it, so a token is never issued to a user being deleted. */
  async function lockOwner(trx: Tx, userId: string): Promise<UserRow | undefined> {
    await lockUser(trx, dialect, userId);
    return createUsersRepo(trx).findById(userId);
  }

  async function issue(trx: Tx, auditActor: AuditActor, owner: UserRow, name: string, expiresAt: number | null, via: 'api' | 'cli'): Promise<IssuedApiToken> {
    // The admin setting bounds every token's life, whoever issues it (API or CLI).
    assertLifetimeAllowed(await readApiTokenPolicy(trx), owner.is_admin === 1, expiresAt, clock.now());
    const ownerId = owner.id;
    const token = randomSecret(API_TOKEN_PREFIX);
    const row: ApiTokenRow = { id: newId(clock), user_id: ownerId, name, token_hash: sha256(token), expires_at: expiresAt, last_used_at: null, created_at: clock.now() };
    await createApiTokensRepo(trx).insert(row);
    await audit.append(trx, {
      actor: auditActor,
      action: 'api_token.created',
      targetType: 'api_token',
      targetId: row.id,
      data: { user_id: ownerId, name, expires_at: toIsoOrNull(expiresAt), via },
    });
    return { row: { ...row, user_email: owner.email }, token };
  }

  return {
    /** Your own tokens; an admin may name another user, or ask for everyone's (all=true). */
    list: async (actor: Actor, query: ListApiTokensQuery) => {
      const userId = query.all ? null : (query.user_id ?? actor.userId);
      assertThat(actor.isAdmin || userId === actor.userId, forbidden('only an admin may list the tokens of another user'));
      return toPage(await createApiTokensRepo(db).list(userId, query), query.limit);
    },

    /** Any signed-in user may create a token for themself; only an admin for someone else. */
    create: async (actor: Actor, input: CreateApiTokenIn): Promise<IssuedApiToken> => {
      const ownerId = input.user_id ?? actor.userId;
      assertThat(actor.isAdmin || ownerId === actor.userId, forbidden('only an admin may create a token for another user'));
      const expiresAt = input.expires_at ? parseInstant(input.expires_at) : null;
      assertThat(expiresAt === null || expiresAt > clock.now(), invalidField('expires_at', 'must be in the future'));
      return db.transaction().execute(async (trx) => {
        const owner = await lockOwner(trx, ownerId);
        // Your own account vanishing mid-request means you are no longer signed in.
        assertThat(owner, input.user_id ? invalidField('user_id', 'no such user') : unauthenticated());
        assertThat(owner.disabled === 0, input.user_id ? invalidField('user_id', 'the user is disabled') : unauthenticated());
        return issue(trx, actor, owner, input.name, expiresAt, 'api');
      });
    },

    /** The owner or an admin; anyone else is told the token does not exist. */
    remove: async (actor: Actor, id: string) => {
      await db.transaction().execute(async (trx) => {
        const repo = createApiTokensRepo(trx);
        const token = await repo.findById(id);
        assertThat(token && (actor.isAdmin || token.user_id === actor.userId), notFound('api token'));
        await repo.delete(id);
        await audit.append(trx, { actor, action: 'api_token.deleted', targetType: 'api_token', targetId: id, data: { user_id: token.user_id, name: token.name } });
      });
    },

    /**
     * `interim token create`: whoever runs the CLI already holds the database, so the
     * token is issued by the system on behalf of the user with this email, and audited so.
     */
    createForEmail: async (email: string, input: { name: string; expiresAt: number | null }): Promise<IssuedApiToken & { owner: UserRow }> => {
      const name = nameSchema.safeParse(input.name);
      assertThat(name.success, invalidField('name', 'must be 1 to 200 characters'));
      assertThat(input.expiresAt === null || input.expiresAt > clock.now(), invalidField('expires_at', 'must be in the future'));
      const normalised = email.trim().toLowerCase();
      return db.transaction().execute(async (trx) => {
        const found = await createUsersRepo(trx).findByEmail(normalised);
        const owner = found && (await lockOwner(trx, found.id));
        assertThat(owner, new AppError(404, 'not_found', `no user with email ${normalised}`));
        assertThat(owner.disabled === 0, new AppError(409, 'user_disabled', `the user ${normalised} is disabled`));
        return { ...(await issue(trx, SYSTEM, owner, name.data, input.expiresAt, 'cli')), owner };
      });
    },
  };
}
export type ApiTokensService = ReturnType<typeof createApiTokensService>;

export function toApiTokenOut(t: ListedApiToken) {
  return {
    id: t.id,
    user_id: t.user_id,
    user_email: t.user_email,
    name: t.name,
    expires_at: toIsoOrNull(t.expires_at),
    last_used_at: toIsoOrNull(t.last_used_at),
    created_at: toIso(t.created_at),
  };
}
