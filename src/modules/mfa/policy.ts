import { sql, type AliasableExpression } from 'kysely';
import { z } from 'zod';
import type { DialectName, Executor } from '../../db/database.ts';

export const mfaPolicy = z.enum(['off', 'everyone', 'admins_and_approvers']);
export type MfaPolicy = z.infer<typeof mfaPolicy>;
export const MFA_POLICY_KEY = 'mfa_policy';

/**
 * Who a policy covers, as a query of user ids: the composition root builds it from the
 * owners' queries (users for everyone and admins; templates and groups for approvers), so
 * this module reads none of their tables.
 */
export type CoveredUsers = (db: Executor, policy: Exclude<MfaPolicy, 'off'>, now: number) => AliasableExpression<{ id: string }>;

/** The policy; `shareLock` (PostgreSQL, in a transaction) holds a policy change off until the caller commits. */
export async function readMfaPolicy(db: Executor, shareLock = false): Promise<MfaPolicy> {
  let q = db.selectFrom('settings').select('value').where('key', '=', MFA_POLICY_KEY);
  if (shareLock) q = q.forShare();
  const row = await q.executeTakeFirst();
  const parsed = row ? mfaPolicy.safeParse(JSON.parse(row.value)) : undefined;
  return parsed?.success ? parsed.data : 'off';
}

export async function writeMfaPolicy(db: Executor, policy: MfaPolicy, now: number): Promise<void> {
  await db.updateTable('settings').set({ value: JSON.stringify(policy), updated_at: now }).where('key', '=', MFA_POLICY_KEY).execute();
}

/** Makes sure the setting's row exists, so it can be locked (two admins changing the policy at once take turns). */
export async function ensureMfaPolicyRow(db: Executor, now: number): Promise<void> {
  await db.insertInto('settings').values({ key: MFA_POLICY_KEY, value: JSON.stringify('off'), updated_at: now }).onConflict((oc) => oc.column('key').doNothing()).execute();
}

/**
 * The users who must enrol before anything else (mfa_enrolment_due), kept in step with the
 * policy and their factors, so looking a caller up stays one joined read. Recomputed for
 * everyone when the policy changes, and for one user when they sign in, enrol, remove their
 * last factor or are reset. Becoming an admin or an approver counts from the next sign-in.
 */
export function createEnrolmentDue(covered: CoveredUsers, dialect: DialectName) {
  const withoutFactor = (db: Executor, policy: Exclude<MfaPolicy, 'off'>, now: number) =>
    db
      .selectFrom(covered(db, policy, now).as('c'))
      .select('c.id')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('mfa_factors as f').select('f.id').whereRef('f.user_id', '=', 'c.id'))));

  return {
    async recomputeAll(db: Executor, policy: MfaPolicy, now: number): Promise<void> {
      if (policy === 'off') {
        await db.deleteFrom('mfa_enrolment_due').execute();
        return;
      }
      await db.deleteFrom('mfa_enrolment_due').where('user_id', 'not in', withoutFactor(db, policy, now)).execute();
      await db
        .insertInto('mfa_enrolment_due')
        .columns(['user_id', 'since'])
        .expression(withoutFactor(db, policy, now).select(sql<number>`cast(${now} as bigint)`.as('since')))
        .onConflict((oc) => oc.column('user_id').doNothing())
        .execute();
    },

    /**
     * In the caller's transaction. The policy is read under a share lock, so a concurrent
     * policy change (which recomputes everyone under its own lock) waits for this one or is
     * seen by it: a factor added at that moment never leaves the person held back.
     */
    async refreshUser(db: Executor, userId: string, now: number): Promise<boolean> {
      const policy = await readMfaPolicy(db, dialect === 'postgres');
      const due = policy !== 'off' && (await withoutFactor(db, policy, now).where('c.id', '=', userId).executeTakeFirst()) !== undefined;
      if (due) await db.insertInto('mfa_enrolment_due').values({ user_id: userId, since: now }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
      else await db.deleteFrom('mfa_enrolment_due').where('user_id', '=', userId).execute();
      return due;
    },
  };
}
export type EnrolmentDue = ReturnType<typeof createEnrolmentDue>;

/** The users who must enrol, for the joined read that looks a caller up (sessions, API tokens). */
export const enrolmentDueQuery = (db: Executor) => db.selectFrom('mfa_enrolment_due').select('user_id');
