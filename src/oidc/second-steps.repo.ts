import type { Executor } from '../db/database.ts';
import type { OidcSecondStepsTable } from '../db/schema.ts';

/** How long a sign-in page's pending state lasts: long enough to find the phone, short enough to be worthless later. */
export const SECOND_STEP_TTL_MS = 5 * 60_000;

export interface SecondStep {
  uid: string;
  userId: string | null;
  sessionId: string | null;
  firstAmr: string[];
  challenge: string;
  expiresAt: number;
}

const toStep = (row: OidcSecondStepsTable): SecondStep => ({
  uid: row.uid,
  userId: row.user_id,
  sessionId: row.session_id,
  firstAmr: JSON.parse(row.first_amr) as string[],
  challenge: row.challenge,
  expiresAt: Number(row.expires_at),
});

/**
 * The OIDC sign-in page's pending state (table `oidc_second_steps`), one row per
 * interaction. Writing a new state replaces the old one (a new page, a new challenge); a
 * state is spent by a conditional delete in the transaction that spends the factor, so it
 * works once, and two concurrent answers cannot both finish the sign-in.
 */
export function createSecondStepsRepo(db: Executor) {
  return {
    async put(step: Omit<SecondStep, 'expiresAt'>, now: number): Promise<SecondStep> {
      const row: OidcSecondStepsTable = {
        uid: step.uid,
        user_id: step.userId,
        session_id: step.sessionId,
        first_amr: JSON.stringify(step.firstAmr),
        challenge: step.challenge,
        created_at: now,
        expires_at: now + SECOND_STEP_TTL_MS,
      };
      const { uid: _uid, ...update } = row;
      await db
        .insertInto('oidc_second_steps')
        .values(row)
        .onConflict((oc) => oc.column('uid').doUpdateSet(update))
        .execute();
      return toStep(row);
    },

    /** The live state of an interaction, if it has one. */
    async find(uid: string, now: number): Promise<SecondStep | undefined> {
      const row = await db.selectFrom('oidc_second_steps').selectAll().where('uid', '=', uid).where('expires_at', '>', now).executeTakeFirst();
      return row ? toStep(row) : undefined;
    },

    /** Spends exactly the state that was read (same challenge): true for one caller only. */
    async spend(step: SecondStep, now: number): Promise<boolean> {
      const result = await db
        .deleteFrom('oidc_second_steps')
        .where('uid', '=', step.uid)
        .where('challenge', '=', step.challenge)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return result.numDeletedRows === 1n;
    },

    purgeExpired: async (now: number, chunk: number): Promise<number> => {
      const result = await db
        .deleteFrom('oidc_second_steps')
        .where('uid', 'in', (eb) => eb.selectFrom('oidc_second_steps as s').select('s.uid').where('s.expires_at', '<=', now).limit(chunk))
        .executeTakeFirstOrThrow();
      return Number(result.numDeletedRows);
    },
  };
}
