import type { Selectable } from 'kysely';
import type { DialectName, Executor, Tx } from '../../db/database.ts';
import { lockRow, lockSelected } from '../../db/locks.ts';
import type { UsersTable } from '../../db/schema.ts';
import { matchesIgnoringCase } from '../../db/search.ts';

export type UserRow = Selectable<UsersTable>;

export function createUsersRepo(db: Executor) {
  const live = () => db.selectFrom('users').selectAll().where('deleted_at', 'is', null);
  return {
    findById: (id: string) => live().where('id', '=', id).executeTakeFirst(),
    findByEmail: (email: string) => live().where('email', '=', email).executeTakeFirst(),
    /** `q`: part of the email or the name; `email`: part of the email; any case. */
    list: (opts: { limit: number; cursor?: string; q?: string; email?: string }) => {
      let q = live().orderBy('id').limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      const text = opts.q;
      if (text) q = q.where((eb) => eb.or([matchesIgnoringCase('email', text, 'contains'), matchesIgnoringCase('name', text, 'contains')]));
      if (opts.email) q = q.where(matchesIgnoringCase('email', opts.email, 'contains'));
      return q.execute();
    },
    /** Id, email and name, deleted users included (events and audit keep naming them). */
    personOf: (id: string) => db.selectFrom('users').select(['id', 'email', 'name']).where('id', '=', id).executeTakeFirst(),
    /** Whether the user exists and is neither disabled nor deleted. */
    isActive: async (id: string): Promise<boolean> =>
      (await db.selectFrom('users').select('id').where('id', '=', id).where('disabled', '=', 0).where('deleted_at', 'is', null).executeTakeFirst()) !== undefined,
    /** Id, email and name of each of `ids`, deleted users included. */
    peopleOf: (ids: readonly string[]) => peopleQuery(db).where('id', 'in', [...ids]).execute(),
    /** The e-mail addresses of those of `ids` who are still active (not disabled or deleted), by id. */
    activeEmails: async (ids: readonly string[]): Promise<Map<string, string>> => {
      if (ids.length === 0) return new Map();
      const rows = await db.selectFrom('users').select(['id', 'email']).where('id', 'in', [...ids]).where('disabled', '=', 0).where('deleted_at', 'is', null).execute();
      return new Map(rows.map((r) => [r.id, r.email]));
    },
    count: async () => Number((await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    /** Users not deleted, disabled ones included: whether anyone but the first admin was invited (the first-run checklist). */
    countUndeleted: async () => Number((await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('deleted_at', 'is', null).executeTakeFirstOrThrow()).n),
    /** Active admins' ids, in a stable order: who is alerted, or notified for an open template. */
    activeAdminIds: async () =>
      (await db.selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).where('deleted_at', 'is', null).orderBy('id').execute()).map((r) => r.id),
    /**
     * The last-admin guard, inside a transaction: locks every active admin's row (in id
     * order, so two guards never deadlock) and returns their ids. A concurrent demotion,
     * disable or delete of an admin waits here and then counts what the first left behind.
     * On SQLite the write transaction (BEGIN IMMEDIATE) already holds the database lock.
     */
    lockActiveAdminIds: async (dialect: DialectName) =>
      (
        await lockSelected(
          db.selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).where('deleted_at', 'is', null).orderBy('id'),
          dialect,
        ).execute()
      ).map((r) => r.id),
    insert: (row: UserRow) => db.insertInto('users').values(row).execute(),
    /** Stores a stronger hash of the same password, unless the password changed since `current` was read. */
    rehashPassword: (id: string, current: string | null, rehashed: string) =>
      db.updateTable('users').set({ password_hash: rehashed }).where('id', '=', id).where('password_hash', '=', current).execute(),
    update: (id: string, patch: Partial<UserRow>) => db.updateTable('users').set(patch).where('id', '=', id).where('deleted_at', 'is', null).execute(),
  };
}
export type UsersRepo = ReturnType<typeof createUsersRepo>;

/**
 * Locks a user's row until the transaction ends (on PostgreSQL; SQLite's write transaction
 * already holds the database lock): other modules serialise their per-user writes on it.
 */
export const lockUser = (trx: Tx, dialect: DialectName, userId: string): Promise<void> => lockRow(trx, dialect, 'users', 'id', userId);

// Query fragments for the other modules' one-statement reads that need a user beside their own
// rows (the API-token and session checks on every call, member and comment lists): the caller
// joins the subquery (`.innerJoin(activeUsersQuery(db).as('u'), 'u.id', …)`), so the SQL stays one
// statement while only this module names the users table.

/** Every user, deleted ones included (events and audit keep naming them): id, email and name. */
export const peopleQuery = (db: Executor) => db.selectFrom('users').select(['id', 'email', 'name']);

/** The users not deleted: id, email and name. */
export const undeletedPeopleQuery = (db: Executor) => peopleQuery(db).where('deleted_at', 'is', null);

/** The active users (neither disabled nor deleted), with the flags a session or token check reads. */
export const activeUsersQuery = (db: Executor) =>
  db.selectFrom('users').select(['id', 'email', 'name', 'is_admin', 'must_change_password']).where('disabled', '=', 0).where('deleted_at', 'is', null);

/** An undeleted user with what the OIDC provider's findAccount checks; `id` may be a prepared statement's slot. */
export const accountQuery = (db: Executor, id: string) =>
  db.selectFrom('users').select(['id', 'email', 'name', 'disabled', 'must_change_password']).where('id', '=', id).where('deleted_at', 'is', null);

/** Every user, deleted ones included, with when they were deleted: who did what in the audit log. */
export const peopleWithDeletionQuery = (db: Executor) => db.selectFrom('users').select(['id', 'email', 'name', 'deleted_at']);

/** The ids of active admins: whom an MFA policy for admins covers. */
export const activeAdminIdsQuery = (db: Executor) => db.selectFrom('users').select('id').where('is_admin', '=', 1).where('disabled', '=', 0).where('deleted_at', 'is', null);
/** The ids of every active user. */
export const activeUserIdsQuery = (db: Executor) => db.selectFrom('users').select('id').where('disabled', '=', 0).where('deleted_at', 'is', null);
