import type { Core } from '../../core.ts';
import { AppError, assertThat, conflict, forbidden, invalidField, notFound, unauthenticated } from '../../http/errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import type { Tx } from '../../db/database.ts';
import { isUniqueViolation, lockRow } from '../../db/locks.ts';
import { newId } from '../../security/ids.ts';
import { generatePassword } from '../../security/passwords.ts';
import { SYSTEM, type Actor, type AuditActor } from '../../http/actor.ts';
import { createUsersRepo, type UserRow } from './users.repo.ts';
import type { CreateUserIn, UpdateMeIn, UpdateUserIn } from './users.types.ts';

export interface OneTimePasswordReset {
  user: UserRow;
  /** Shown once to whoever asked; it must be changed at the next sign-in. */
  oneTimePassword: string;
}

/**
 * What modules above users must do when a user changes, in the same transaction. users sits
 * below groups (a membership needs its user) and auth (sign-in reads users), so it calls up
 * through these hooks, not imports. The composition root wires them (`userHooks()`).
 */
export interface UserHooks {
  /**
   * Ends everything the user holds (sessions, API tokens, OIDC sessions, grants and tokens)
   * but `keepSessionId`: on disable, delete, password change and admin removal. Required, so
   * no users service can exist that changes a password and leaves the old sessions alive.
   */
  endAccess(trx: Tx, userId: string, keepSessionId?: string): Promise<{ apiTokensEnded: number; sessions?: EndedSessionRef[] }>;
  /**
   * The user is disabled or deleted: their live grants are revoked and their open requests
   * withdrawn (requests owns them). Called before the user row changes and before the audit
   * append takes the chain head (lock order: request rows first). Required, so no users service
   * can disable someone and leave their grants alive.
   */
  userRetired(trx: Tx, userId: string, actor: AuditActor): Promise<void>;
  /** The user is soft-deleted: their memberships go (groups owns them). */
  userDeleted?(trx: Tx, userId: string): Promise<void>;
  /**
   * A user's access changed (issue 13): the signals for the applications (back-channel logout,
   * SSF) are recorded, in the same transaction, before the audit append. Wired in compose.ts.
   */
  accessChanged?(trx: Tx, change: UserAccessChange): Promise<void>;
}

/** A provider session's (client, sid) that ended: what a logout token names. */
export interface EndedSessionRef {
  client_id: string;
  sid: string;
}

/** How a user's access changed, for the signals (user-signals.ts turns it into them). */
export interface UserAccessChange {
  userId: string;
  email: string;
  /** Who did it: the user (own password, sign-out) or an administrator. */
  by: 'user' | 'admin';
  kinds: ReadonlyArray<'disabled' | 'enabled' | 'deleted' | 'password_changed' | 'password_reset' | 'admin_removed'>;
  /** Set when every session ended (endAccess ran): the provider sessions that ended with them. */
  sessions?: EndedSessionRef[];
}

const lastAdmin = () => conflict('last_admin', 'this would leave no active admin');

export function createUsersService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit' | 'passwords'>, hooks: UserHooks) {
  const { db, clock, audit, dialect, passwords } = core;
  const users = createUsersRepo(db);

  /** `lockedAdminIds` come from lockActiveAdminIds in the same transaction. */
  const assertAnotherAdmin = (lockedAdminIds: string[], leavingAdminId: string) => assertThat(lockedAdminIds.some((id) => id !== leavingAdminId), lastAdmin());

  /** Stores a new password hash and ends every session and token of the user but `keepSessionId`. */
  async function replacePassword(trx: Tx, userId: string, hash: string, mustChange: boolean, keepSessionId?: string) {
    await createUsersRepo(trx).update(userId, { password_hash: hash, must_change_password: mustChange ? 1 : 0, updated_at: clock.now() });
    return hooks.endAccess(trx, userId, keepSessionId);
  }

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

    /** The live user with this email (a Terraform data source's lookup; emails are stored in lower case). */
    getByEmail: async (actor: Actor, email: string) => {
      assertThat(actor.isAdmin, forbidden());
      const user = await users.findByEmail(email);
      assertThat(user, notFound('user'));
      return user;
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
        password_hash: input.password ? await passwords.hash(input.password) : null,
        is_admin: input.is_admin ? 1 : 0,
        disabled: 0,
        // A password an admin chose is known to the admin: the user replaces it at first sign-in.
        must_change_password: input.password && input.must_change_password !== false ? 1 : 0,
        time_zone: null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      try {
        await db.transaction().execute(async (trx) => {
          await createUsersRepo(trx).insert(row);
          await audit.append(trx, {
            actor,
            action: 'user.created',
            targetType: 'user',
            targetId: row.id,
            data: { email: row.email, is_admin: input.is_admin, password_set: Boolean(input.password), must_change_password: row.must_change_password === 1 },
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('email_taken', 'a user with this email already exists');
        throw error;
      }
      return row;
    },

    update: async (actor: Actor, id: string, input: UpdateUserIn) => {
      assertThat(actor.isAdmin, forbidden());
      const passwordHash = input.password ? await passwords.hash(input.password) : undefined;
      try {
        return await db.transaction().execute(async (trx) => {
          const repo = createUsersRepo(trx);
          const removesAdmin = input.is_admin === false || input.disabled === true;
          // Lock the admins before reading the user, so the check below sees every
          // concurrent demotion that committed first (lock order: admins, then the rest).
          const admins = removesAdmin ? await repo.lockActiveAdminIds(dialect) : [];
          // The user's row before anything that appends to the audit chain below, so the
          // chain head is the last lock this transaction takes.
          await lockRow(trx, dialect, 'users', 'id', id);
          const before = await repo.findById(id);
          assertThat(before, notFound('user'));
          const losesAdmin = removesAdmin && admins.includes(id);
          if (losesAdmin) assertAnotherAdmin(admins, id);
          const patch: Partial<UserRow> = { updated_at: clock.now() };
          if (input.email !== undefined) patch.email = input.email;
          if (input.name !== undefined) patch.name = input.name;
          if (input.is_admin !== undefined) patch.is_admin = input.is_admin ? 1 : 0;
          if (input.disabled !== undefined) patch.disabled = input.disabled ? 1 : 0;
          // A password an admin sets must be changed at the next sign-in, unless the admin says otherwise.
          if (passwordHash) Object.assign(patch, { password_hash: passwordHash, must_change_password: input.must_change_password === false ? 0 : 1 });
          else if (input.must_change_password !== undefined) patch.must_change_password = input.must_change_password ? 1 : 0;
          // A disabled user's grants are revoked and open requests withdrawn, before the
          // audit append below takes the chain head (lock order: request rows first).
          if (input.disabled === true && before.disabled === 0) await hooks.userRetired(trx, id, actor);
          await repo.update(id, patch);
          // Disabling, demoting and resetting the password each end every session and token.
          const ended = losesAdmin || input.disabled === true || passwordHash ? await hooks.endAccess(trx, id) : undefined;
          const kinds = updateKinds(before, input, Boolean(passwordHash));
          if (kinds.length) await hooks.accessChanged?.(trx, { userId: id, email: before.email, by: 'admin', kinds, sessions: ended && (ended.sessions ?? []) });
          await audit.append(trx, {
            actor,
            action: input.disabled === true ? 'user.disabled' : 'user.updated',
            targetType: 'user',
            targetId: id,
            data: {
              before: publicFields(before),
              after: publicFields({ ...before, ...patch }),
              password_changed: Boolean(passwordHash),
              ...(ended ? { api_tokens_ended: ended.apiTokensEnded } : {}),
            },
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
        // Two admins deleting each other at once must not both succeed.
        const admins = await repo.lockActiveAdminIds(dialect);
        await lockRow(trx, dialect, 'users', 'id', id);
        const user = await repo.findById(id);
        assertThat(user, notFound('user'));
        if (admins.includes(id)) assertAnotherAdmin(admins, id);
        const now = clock.now();
        await hooks.userRetired(trx, id, actor);
        // Soft delete: audit rows keep pointing at the user. Memberships and tokens go.
        await repo.update(id, { deleted_at: now, updated_at: now, disabled: 1 });
        await hooks.userDeleted?.(trx, id);
        const { sessions = [] } = await hooks.endAccess(trx, id);
        await hooks.accessChanged?.(trx, { userId: id, email: user.email, by: 'admin', kinds: ['deleted'], sessions });
        await audit.append(trx, { actor, action: 'user.deleted', targetType: 'user', targetId: id, data: { email: user.email } });
      });
    },

    /**
     * A user changes their own settings (the time zone the portal shows times in). Only
     * ever the caller's own row: there is no id to name someone else. Audited.
     */
    updateMe: async (actor: Actor, input: UpdateMeIn) =>
      db.transaction().execute(async (trx) => {
        const repo = createUsersRepo(trx);
        await lockRow(trx, dialect, 'users', 'id', actor.userId);
        const before = await repo.findById(actor.userId);
        assertThat(before, unauthenticated());
        if (input.time_zone === undefined || input.time_zone === before.time_zone) return before;
        const patch: Partial<UserRow> = { time_zone: input.time_zone, updated_at: clock.now() };
        await repo.update(actor.userId, patch);
        await audit.append(trx, { actor, action: 'user.settings_changed', targetType: 'user', targetId: actor.userId, data: { time_zone: { before: before.time_zone, after: input.time_zone } } });
        return { ...before, ...patch };
      }),

    /**
     * A user changes their own password. Every other session, every API token and every
     * OIDC grant of theirs ends; the session they changed it from stays.
     */
    changeOwnPassword: async (actor: Actor, currentPassword: string, newPassword: string) => {
      const user = await users.findById(actor.userId);
      assertThat(user, unauthenticated());
      const { ok } = await passwords.verify(currentPassword, user.password_hash);
      assertThat(ok, conflict('wrong_password', 'the current password is not correct'));
      // The current password was just proven, so equal text means the same password.
      assertThat(newPassword !== currentPassword, invalidField('new_password', 'must differ from the current password'));
      const hash = await passwords.hash(newPassword);
      await db.transaction().execute(async (trx) => {
        const { apiTokensEnded, sessions = [] } = await replacePassword(trx, actor.userId, hash, false, actor.sessionId);
        await hooks.accessChanged?.(trx, { userId: actor.userId, email: user.email, by: 'user', kinds: ['password_changed'], sessions });
        await audit.append(trx, { actor, action: 'user.password_changed', targetType: 'user', targetId: actor.userId, data: { api_tokens_ended: apiTokensEnded } });
      });
    },

    /**
     * For `interim admin reset-password EMAIL` (whoever runs the CLI holds the database):
     * gives the user a new one-time password that must be changed at the next sign-in,
     * and ends every session, API token and OIDC grant they hold. Audited as the system.
     */
    resetPasswordToOneTime: async (email: string): Promise<OneTimePasswordReset> => {
      const normalised = email.trim().toLowerCase();
      const user = await users.findByEmail(normalised);
      assertThat(user, new AppError(404, 'not_found', `no user with email ${normalised}`));
      const oneTimePassword = generatePassword();
      const hash = await passwords.hash(oneTimePassword);
      await db.transaction().execute(async (trx) => {
        const { apiTokensEnded, sessions = [] } = await replacePassword(trx, user.id, hash, true);
        await hooks.accessChanged?.(trx, { userId: user.id, email: user.email, by: 'admin', kinds: ['password_reset'], sessions });
        await audit.append(trx, { actor: SYSTEM, action: 'user.password_reset', targetType: 'user', targetId: user.id, data: { one_time: true, via: 'cli', api_tokens_ended: apiTokensEnded } });
      });
      return { user: { ...user, password_hash: hash, must_change_password: 1 }, oneTimePassword };
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;

/** What an admin's update changed about the user's access (transitions only), for the signals. */
function updateKinds(before: UserRow, input: UpdateUserIn, passwordSet: boolean): UserAccessChange['kinds'] {
  const kinds: UserAccessChange['kinds'][number][] = [];
  if (input.disabled === true && before.disabled === 0) kinds.push('disabled');
  if (input.disabled === false && before.disabled === 1) kinds.push('enabled');
  if (passwordSet) kinds.push('password_reset');
  if (input.is_admin === false && before.is_admin === 1) kinds.push('admin_removed');
  return kinds;
}

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
    time_zone: u.time_zone,
    created_at: new Date(u.created_at).toISOString(),
    updated_at: new Date(u.updated_at).toISOString(),
  };
}
