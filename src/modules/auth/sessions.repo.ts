import type { Executor } from '../../db/database.ts';
import { enrolmentDueQuery } from '../mfa/index.ts';
import { activeUsersQuery } from '../users/users.repo.ts';

export function createSessionsRepo(db: Executor) {
  return {
    insert: (row: { id: string; user_id: string; csrf_token: string; created_at: number; last_seen_at: number; expires_at: number; amr?: string | null }) =>
      db.insertInto('sessions').values({ ...row, amr: row.amr ?? null }).execute(),

    /** How and when the session was signed in (RFC 8176 amr values); a session from before the column was password only. */
    async signInOf(id: string): Promise<{ amr: string[]; signedInAt: number } | undefined> {
      const row = await db.selectFrom('sessions').select(['amr', 'created_at']).where('id', '=', id).executeTakeFirst();
      return row ? { amr: row.amr ? (JSON.parse(row.amr) as string[]) : ['pwd'], signedInAt: Number(row.created_at) } : undefined;
    },

    /** Records a second factor passed later in this session (a step-up on the sign-in page). */
    setAmr: (id: string, userId: string, amr: readonly string[]) =>
      db.updateTable('sessions').set({ amr: JSON.stringify(amr) }).where('id', '=', id).where('user_id', '=', userId).execute(),

    /**
     * The live session with its user's flags and how they signed in. `mfa_due_user` is set
     * when the MFA policy makes the user enrol first: one joined read, no extra query.
     */
    findLive: (id: string, now: number, idleMs: number) =>
      db
        .selectFrom('sessions')
        .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'sessions.user_id')
        .leftJoin(enrolmentDueQuery(db).as('due'), 'due.user_id', 'sessions.user_id')
        .select(['sessions.id', 'sessions.user_id', 'sessions.csrf_token', 'sessions.last_seen_at', 'u.is_admin', 'u.must_change_password', 'due.user_id as mfa_due_user'])
        .where('sessions.id', '=', id)
        .where('sessions.expires_at', '>', now)
        .where('sessions.last_seen_at', '>', now - idleMs)
        .executeTakeFirst(),

    /** Of these sessions, the ones still live, with their user's admin flag: one query for every open live stream. */
    findLiveMany: (ids: readonly string[], now: number, idleMs: number) =>
      ids.length === 0
        ? Promise.resolve([])
        : db
            .selectFrom('sessions')
            .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'sessions.user_id')
            .select(['sessions.id', 'u.is_admin'])
            .where('sessions.id', 'in', [...ids])
            .where('sessions.expires_at', '>', now)
            .where('sessions.last_seen_at', '>', now - idleMs)
            .execute(),

    touch: (id: string, now: number) => db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute(),

    delete: (id: string) => db.deleteFrom('sessions').where('id', '=', id).execute(),

    deleteForUser: (userId: string) => db.deleteFrom('sessions').where('user_id', '=', userId).execute(),
    /** Every session of the user but `keepId` (the one they changed their password from). */
    deleteForUserExcept: (userId: string, keepId: string) => db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keepId).execute(),

    /** Deletes up to `chunk` sessions past their absolute expiry; returns how many went. */
    purgeExpired: async (now: number, chunk: number): Promise<number> => {
      const result = await db
        .deleteFrom('sessions')
        .where('id', 'in', (eb) => eb.selectFrom('sessions as s').select('s.id').where('s.expires_at', '<=', now).limit(chunk))
        .executeTakeFirstOrThrow();
      return Number(result.numDeletedRows);
    },

    deleteExpired: (now: number, idleMs: number) =>
      db.deleteFrom('sessions').where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)])).execute(),
  };
}
export type SessionsRepo = ReturnType<typeof createSessionsRepo>;
