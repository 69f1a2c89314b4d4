import type { Db, Executor } from '../db/database.ts';
import { enrolmentDueQuery } from '../modules/mfa/index.ts';
import { activeUsersQuery } from '../modules/users/users.repo.ts';
import { CLI_CLIENT_ID } from './cli-client.ts';
import { prepare } from './prepared.ts';

type LiveCliToken = { payload: string; grant_id: string; user_id: string; is_admin: number; must_change_password: number; mfa_due_user: string | null };

/**
 * The API's view of the CLI's access tokens (http/auth.ts CallerSources.cliTokens). They
 * are opaque: the token is the id of its oidc_payloads row, so one indexed statement
 * finds it live together with its Grant and its user, enabled and undeleted. Whatever
 * ends a user's access (disabling, a password change, revoking the device in the
 * portal, `interim logout`) deletes those rows, so the next request is 401 (rule 7).
 */
export function createCliCallers(db: Db) {
  const find = prepare<{ id: string; now: number }, LiveCliToken>(db, (p) =>
    db
      .selectFrom('oidc_payloads as t')
      .innerJoin('oidc_payloads as g', (j) => j.on('g.model', '=', 'Grant').onRef('g.id', '=', 't.grant_id'))
      .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 't.account_id')
      // Held back by the MFA policy until they enrol, as sessions and API tokens are.
      .leftJoin(enrolmentDueQuery(db).as('due'), 'due.user_id', 't.account_id')
      .select(['t.payload', 'g.id as grant_id', 'u.id as user_id', 'u.is_admin', 'u.must_change_password', 'due.user_id as mfa_due_user'])
      .where('t.model', '=', 'AccessToken')
      .where('t.id', '=', p('id'))
      .where('t.expires_at', '>', p('now'))
      .where((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', p('now'))])),
  );
  return {
    /** Of these grant ids, the live CLI sign-ins of active users (the live feed re-checks its CLI listeners with this). */
    async findLiveSignIns(grantIds: string[], now: number): Promise<{ id: string; is_admin: number }[]> {
      if (grantIds.length === 0) return [];
      const rows = await db
        .selectFrom('oidc_payloads as g')
        .innerJoin(activeUsersQuery(db).as('u'), 'u.id', 'g.account_id')
        .select(['g.id', 'g.payload', 'u.is_admin'])
        .where('g.model', '=', 'Grant')
        .where('g.id', 'in', grantIds)
        .where((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', now)]))
        .execute();
      return rows.filter((r) => clientOf(r.payload) === CLI_CLIENT_ID).map((r) => ({ id: r.id, is_admin: r.is_admin }));
    },
    async findLive(token: string, now: number) {
      // oidc-provider's opaque tokens are 43 base64url characters; anything else is no such token, without a query.
      if (!/^[A-Za-z0-9_-]{20,128}$/.test(token)) return undefined;
      const row = (await find({ id: token, now })).rows[0];
      if (!row || clientOf(row.payload) !== CLI_CLIENT_ID) return undefined;
      return { grant_id: row.grant_id, user_id: row.user_id, is_admin: row.is_admin, must_change_password: row.must_change_password, mfa_due_user: row.mfa_due_user };
    },
  };
}

const clientOf = (payload: string): unknown => {
  try {
    return (JSON.parse(payload) as { clientId?: unknown }).clientId;
  } catch {
    return undefined;
  }
};

export interface CliDevice {
  id: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/**
 * A user's command-line sign-ins: their provider Grants for the CLI client, with when
 * a token was last issued under each (portal "Devices", DELETE ends one).
 */
export function createCliDevicesRepo(db: Executor) {
  const grantsOf = async (userId: string) =>
    (await db.selectFrom('oidc_payloads').select(['id', 'payload', 'expires_at']).where('account_id', '=', userId).where('model', '=', 'Grant').execute()).filter(
      (g) => clientOf(g.payload) === CLI_CLIENT_ID,
    );
  return {
    async list(userId: string, now: number): Promise<CliDevice[]> {
      const grants = (await grantsOf(userId)).filter((g) => g.expires_at === null || g.expires_at > now);
      if (grants.length === 0) return [];
      const tokens = await db
        .selectFrom('oidc_payloads')
        .select(['grant_id', 'model', 'payload', 'expires_at', 'consumed_at'])
        .where('grant_id', 'in', grants.map((g) => g.id))
        .where('model', 'in', ['AccessToken', 'RefreshToken'])
        .execute();
      const lastUse = new Map<string, number>();
      // The sign-in ends with its live refresh token (the rotation chain keeps the first one's end), not with the Grant.
      const ends = new Map<string, number>();
      for (const t of tokens) {
        if (!t.grant_id) continue;
        const iat = issuedAt(t.payload);
        if (iat !== undefined) lastUse.set(t.grant_id, Math.max(lastUse.get(t.grant_id) ?? 0, iat));
        if (t.model === 'RefreshToken' && t.consumed_at === null && t.expires_at !== null) ends.set(t.grant_id, Math.max(ends.get(t.grant_id) ?? 0, t.expires_at));
      }
      return grants
        .map((g) => ({ id: g.id, created_at: issuedAt(g.payload) ?? 0, expires_at: ends.get(g.id) ?? g.expires_at, last_used_at: lastUse.get(g.id) ?? null }))
        .sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
    },
    /** Ends one sign-in of this user: its Grant and every code and token under it. False when it is not theirs or gone. */
    async revoke(userId: string, grantId: string): Promise<boolean> {
      const mine = (await grantsOf(userId)).some((g) => g.id === grantId);
      if (!mine) return false;
      await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
      const gone = await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
      return Number(gone.numDeletedRows) > 0;
    },
  };
}

const issuedAt = (payload: string): number | undefined => {
  try {
    const iat = (JSON.parse(payload) as { iat?: unknown }).iat;
    return typeof iat === 'number' ? iat * 1000 : undefined;
  } catch {
    return undefined;
  }
};
