import type { Core } from '../../core.ts';
import { assertThat, conflict, forbidden, notFound, unauthenticated } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import { isUniqueViolation } from '../../db/locks.ts';
import { newId } from '../../security/ids.ts';
import { hashPassword, verifyPassword } from '../../security/passwords.ts';
import type { Actor } from '../auth/actor.ts';
import { revokeUserAccess } from '../auth/revocation.ts';
import { endRequestsBackedBy } from '../requests/backing.ts';
import { createUsersRepo, type UserRow } from './users.repo.ts';
import type { CreateUserIn, UpdateUserIn } from './users.types.ts';

export function createUsersService(core: Core) {
  const { db, clock, audit } = core;
  const users = createUsersRepo(db);

  async function load(id: string): Promise<UserRow> {
    const user = await users.findById(id);
    assertThat(user, notFound('user'));
    return user;
  }

  return {
    list: async (actor: Actor, page: PageQuery & { q?: string; email?: string }) => {
      assertThat(actor.isAdmin, forbidden());
      return toPage(await users.list(page), page.limit);
    },

    /** Admins read anyone; a user reads only themself, and anyone else is "not found". */
    get: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin || actor.userId === id, notFound('user'));
      return load(id);
    },

    create: async (actor: Actor, input: CreateUserIn) => {
      assertThat(actor.isAdmin, forbidden());
      const now = clock.now();
      const row: UserRow = {
        id: newId(clock),
        email: input.email,
        name: input.name,
        password_hash: input.password ? await hashPassword(input.password) : null,
        is_admin: input.is_admin ? 1 : 0,
        disabled: 0,
        must_change_password: 0,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      try {
        await db.transaction().execute(async (trx) => {
          await createUsersRepo(trx).insert(row);
          await audit.append(trx, { actor, action: 'user.created', targetType: 'user', targetId: row.id, data: { email: row.email, is_admin: input.is_admin } });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('email_taken', 'a user with this email already exists');
        throw error;
      }
      return row;
    },

    update: async (actor: Actor, id: string, input: UpdateUserIn) => {
      assertThat(actor.isAdmin, forbidden());
      const passwordHash = input.password ? await hashPassword(input.password) : undefined;
      try {
        return await db.transaction().execute(async (trx) => {
          const repo = createUsersRepo(trx);
          const before = await repo.findById(id);
          assertThat(before, notFound('user'));
          const losesAdmin = (input.is_admin === false && before.is_admin === 1) || (input.disabled === true && before.is_admin === 1);
          if (losesAdmin) assertThat((await repo.countActiveAdmins()) > 1, conflict('last_admin', 'this would leave no active admin'));
          const patch: Partial<UserRow> = { updated_at: clock.now() };
          if (input.email !== undefined) patch.email = input.email;
          if (input.name !== undefined) patch.name = input.name;
          if (input.is_admin !== undefined) patch.is_admin = input.is_admin ? 1 : 0;
          if (input.disabled !== undefined) patch.disabled = input.disabled ? 1 : 0;
          if (passwordHash) Object.assign(patch, { password_hash: passwordHash, must_change_password: 0 });
          // A disabled user's grants are revoked and open requests withdrawn, before the
          // audit append below takes the chain head (lock order: request rows first).
          if (input.disabled === true && before.disabled === 0) await endRequestsBackedBy(core, trx, { kind: 'user', id }, actor);
          await repo.update(id, patch);
          // Disabling, demoting and resetting the password each end every session and token.
          if (losesAdmin || input.disabled === true || passwordHash) await revokeUserAccess(trx, id);
          await audit.append(trx, {
            actor,
            action: input.disabled === true ? 'user.disabled' : 'user.updated',
            targetType: 'user',
            targetId: id,
            data: { before: publicFields(before), after: publicFields({ ...before, ...patch }), password_changed: Boolean(passwordHash) },
          });
          return { ...before, ...patch };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('email_taken', 'a user with this email already exists');
        throw error;
      }
    },

    remove: async (actor: Actor, id: string) => {
      assertThat(actor.isAdmin, forbidden());
      assertThat(actor.userId !== id, conflict('self_delete', 'you cannot delete your own account'));
      await db.transaction().execute(async (trx) => {
        const repo = createUsersRepo(trx);
        const user = await repo.findById(id);
        assertThat(user, notFound('user'));
        const now = clock.now();
        await endRequestsBackedBy(core, trx, { kind: 'user', id }, actor);
        // Soft delete: audit rows keep pointing at the user. Memberships and tokens go.
        await repo.update(id, { deleted_at: now, updated_at: now, disabled: 1 });
        await trx.deleteFrom('memberships').where('user_id', '=', id).execute();
        await trx.deleteFrom('api_tokens').where('user_id', '=', id).execute();
        await revokeUserAccess(trx, id);
        await audit.append(trx, { actor, action: 'user.deleted', targetType: 'user', targetId: id, data: { email: user.email } });
      });
    },

    /** A user changes their own password. Every other session and token of theirs ends. */
    changeOwnPassword: async (actor: Actor, currentPassword: string, newPassword: string) => {
      const user = await users.findById(actor.userId);
      assertThat(user, unauthenticated());
      const ok = await verifyPassword(currentPassword, user.password_hash);
      assertThat(ok, conflict('wrong_password', 'the current password is not correct'));
      const hash = await hashPassword(newPassword);
      await db.transaction().execute(async (trx) => {
        await createUsersRepo(trx).update(actor.userId, { password_hash: hash, must_change_password: 0, updated_at: clock.now() });
        await revokeUserAccess(trx, actor.userId, actor.sessionId);
        await audit.append(trx, { actor, action: 'user.password_changed', targetType: 'user', targetId: actor.userId });
      });
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;

function publicFields(u: UserRow) {
  return { email: u.email, name: u.name, is_admin: u.is_admin === 1, disabled: u.disabled === 1 };
}

export function toUserOut(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    is_admin: u.is_admin === 1,
    disabled: u.disabled === 1,
    must_change_password: u.must_change_password === 1,
    created_at: new Date(u.created_at).toISOString(),
    updated_at: new Date(u.updated_at).toISOString(),
  };
}
