import { z } from 'zod';
import type { Core } from '../../core.ts';
import type { Executor } from '../../db/database.ts';
import { lockRow } from '../../db/locks.ts';
import { assertThat, forbidden, invalidField } from '../../http/errors.ts';
import type { Actor } from '../../http/actor.ts';

const SETTING_KEY = 'api_tokens.policy';
const DAY_MS = 86_400_000;

const lifetimeDays = z.number().int().min(1).max(3650).nullable();

/** The admin setting that bounds how long an API token may live. null: no limit. */
export const apiTokenPolicy = z.strictObject({
  /** Tokens of users who are not admins. */
  max_lifetime_days: lifetimeDays,
  /** Tokens of admins. */
  admin_max_lifetime_days: lifetimeDays,
});
export type ApiTokenPolicy = z.infer<typeof apiTokenPolicy>;
export const apiTokenPolicyPatch = apiTokenPolicy.partial();

export const DEFAULT_API_TOKEN_POLICY: ApiTokenPolicy = { max_lifetime_days: 90, admin_max_lifetime_days: null };

export async function readApiTokenPolicy(db: Executor): Promise<ApiTokenPolicy> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', SETTING_KEY).executeTakeFirst();
  const parsed = row ? apiTokenPolicy.safeParse(JSON.parse(row.value)) : undefined;
  return parsed?.success ? parsed.data : DEFAULT_API_TOKEN_POLICY;
}

/**
 * The rule, pure: a token for this owner needs an expiry no further than the owner's
 * limit. Returns the problem to answer, or undefined when the expiry is allowed.
 */
export function lifetimeProblem(policy: ApiTokenPolicy, ownerIsAdmin: boolean, expiresAt: number | null, now: number): string | undefined {
  const days = ownerIsAdmin ? policy.admin_max_lifetime_days : policy.max_lifetime_days;
  if (days === null) return undefined;
  const whose = ownerIsAdmin ? 'admins' : 'users who are not admins';
  if (expiresAt === null) return `required: tokens of ${whose} must expire within ${days} days (admin setting max_lifetime_days)`;
  if (expiresAt - now > days * DAY_MS) return `must be at most ${days} days from now for tokens of ${whose}`;
  return undefined;
}

export function assertLifetimeAllowed(policy: ApiTokenPolicy, ownerIsAdmin: boolean, expiresAt: number | null, now: number): void {
  const problem = lifetimeProblem(policy, ownerIsAdmin, expiresAt, now);
  assertThat(problem === undefined, invalidField('expires_at', problem ?? ''));
}

export function createApiTokenPolicyService(core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>) {
  const { db, clock, audit, dialect } = core;
  return {
    /** Every signed-in user may read it: the portal shows the limit beside the expiry field. */
    read: () => readApiTokenPolicy(db),

    update: async (actor: Actor, patch: z.infer<typeof apiTokenPolicyPatch>): Promise<ApiTokenPolicy> => {
      assertThat(actor.isAdmin, forbidden());
      return db.transaction().execute(async (trx) => {
        const now = clock.now();
        await trx.insertInto('settings').values({ key: SETTING_KEY, value: JSON.stringify(DEFAULT_API_TOKEN_POLICY), updated_at: now }).onConflict((oc) => oc.column('key').doNothing()).execute();
        await lockRow(trx, dialect, 'settings', 'key', SETTING_KEY);
        const before = await readApiTokenPolicy(trx);
        const after: ApiTokenPolicy = { ...before, ...patch };
        await trx.updateTable('settings').set({ value: JSON.stringify(after), updated_at: now }).where('key', '=', SETTING_KEY).execute();
        await audit.append(trx, { actor, action: 'settings.api_tokens_updated', targetType: 'settings', targetId: SETTING_KEY, data: { before, after } });
        return after;
      });
    },
  };
}
export type ApiTokenPolicyService = ReturnType<typeof createApiTokenPolicyService>;
