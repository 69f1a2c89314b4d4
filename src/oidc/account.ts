import { sql } from 'kysely';
import type { Account, AccountClaims, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Db, DialectName } from '../db/database.ts';
import { CLAIMS_MARGIN_MS, mergeWindowedClaims, staleGrants, type EffectiveClaims } from '../modules/claims/index.ts';
import { claimSourcesQuery, claimSourcesWithUsageQuery, toClaimSources, type ClaimSourceRow } from '../modules/claims/claims.repo.ts';
import { createGrantUsageRepo } from '../modules/claims/usage.repo.ts';

import { resourceServerForClientQuery } from '../modules/resource-servers/resource-servers.repo.ts';
import { accountQuery } from '../modules/users/users.repo.ts';
import { prepare } from './prepared.ts';
import type { PrefetchedResources } from './resources.ts';

type UserRow = { id: string; email: string; name: string; disabled: number; must_change_password: number };

/** One row of the user + claim sources (+ resource server) read: one per claim source, claim columns null when there is none. */
export type AccountRow = UserRow & { [K in keyof ClaimSourceRow]: ClaimSourceRow[K] | null } & { group_id?: string | null; usage_last_used_at?: number | null } & { r_audience?: string | null; r_scopes?: string | null; r_app_id?: string | null };

/**
 * The rows findAccount would read, read earlier in the same request together with other rows
 * (PostgreSQL: the refresh grant reads them with its client and refresh token, adapter.ts).
 * Keyed by the request's context and taken once, for that user, application and audience.
 */
export type PrefetchedAccounts = WeakMap<object, { userId: string; appId: string; audience: string | undefined; rows: AccountRow[] }>;

const USER_AND_CLAIM = ['u.id', 'u.email', 'u.name', 'u.disabled', 'u.must_change_password', 'c.claim', 'c.value_json', 'c.group_expires_at', 'c.membership_expires_at', 'c.membership_starts_at'] as const;

/**
 * The user and their claim sources for one application in one statement (rows as AccountRow),
 * plus, given an audience, the resource server a token request names (resources.ts asks next).
 * `usage`: the token endpoint's form, with each grant's last use (claimSourcesWithUsageQuery).
 */
export function accountWithClaimsQuery(db: Db, id: string, appId: string, at: number, audience?: string, usage = false) {
  const user = db.selectFrom(accountQuery(db, id).as('u'));
  const userWithClaims = usage
    ? user.leftJoin(claimSourcesWithUsageQuery(db, id, appId, at).as('c'), (join) => join.onTrue()).select(['c.group_id', 'c.usage_last_used_at'])
    : user.leftJoin(claimSourcesQuery(db, id, appId, at).as('c'), (join) => join.onTrue());
  if (audience === undefined) return userWithClaims.select([...USER_AND_CLAIM, sql<null>`null`.as('r_audience'), sql<null>`null`.as('r_scopes'), sql<null>`null`.as('r_app_id')]);
  return userWithClaims
    .leftJoin(resourceServerForClientQuery(db, audience, appId).as('r'), (join) => join.onTrue())
    .select([...USER_AND_CLAIM, 'r.audience as r_audience', 'r.scopes as r_scopes', 'r.app_id as r_app_id']);
}

/**
 * effectiveClaims, computed at most once per (request, user, application). The token
 * endpoint needs the same answer three times (the access token's lifetime, its extra
 * claims and the ID token), and the lifetime hook is synchronous, so the answer must
 * already be there when oidc-provider asks for it. The same read says which grants a
 * token issued now must record as used (claims/usage.ts): `staleGrants`.
 */
export interface ClaimsCache {
  load(ctx: object, userId: string, appId: string): Promise<EffectiveClaims>;
  /** load(), but read by `read(at)` when this request has no answer yet (a statement that reads more besides). */
  loadWith(ctx: object, userId: string, appId: string, read: (at: number) => Promise<readonly SourceRow[]>): Promise<EffectiveClaims>;
  /** The answer if this request already computed it. */
  peek(ctx: object, userId: string, appId: string): EffectiveClaims | undefined;
  /** The grants this request's read found stale (never used, or last used ≥ 60 s ago), taken once; [] before the read. */
  takeStaleGrants(ctx: object, userId: string, appId: string): string[];
}

type Slot = { promise: Promise<EffectiveClaims>; value?: EffectiveClaims; stale: string[] };
/** A claim source as read: with its grant's usage on the token endpoint, without elsewhere. */
type SourceRow = ClaimSourceRow & { group_id?: string | null; usage_last_used_at?: number | null };

/** Only the token endpoint records usage (DESIGN: usage facts); userinfo and introspection read the claims alone. */
const recordsUsage = (ctx: object) => (ctx as { oidc?: { route?: string } }).oidc?.route === 'token';

export function createClaimsCache(db: Db, clock: Clock): ClaimsCache {
  // The one claims query (claims.repo.ts), compiled once in each form: it runs on every token, userinfo and introspection.
  const sourcesQuery = prepare<{ user_id: string; app_id: string; at: number }, SourceRow>(db, (p) => claimSourcesQuery(db, p('user_id'), p('app_id'), p('at')));
  const sourcesWithUsageQuery = prepare<{ user_id: string; app_id: string; at: number }, SourceRow>(db, (p) => claimSourcesWithUsageQuery(db, p('user_id'), p('app_id'), p('at')));
  const perRequest = new WeakMap<object, Map<string, Slot>>();
  const slot = (
    ctx: object,
    userId: string,
    appId: string,
    read: (at: number) => Promise<readonly SourceRow[]> = async (at) => (await (recordsUsage(ctx) ? sourcesWithUsageQuery : sourcesQuery)({ user_id: userId, app_id: appId, at })).rows,
  ) => {
    let map = perRequest.get(ctx);
    if (!map) perRequest.set(ctx, (map = new Map()));
    const key = `${userId}\u0000${appId}`;
    let entry = map.get(key);
    if (!entry) {
      const at = clock.now() + CLAIMS_MARGIN_MS;
      const created: Slot = {
        stale: [],
        // Windows count from the instant itself, not the margin ahead (a start is never early).
        promise: read(at).then((rows) => {
          created.stale = staleGrants(rows, at - CLAIMS_MARGIN_MS);
          return (created.value = mergeWindowedClaims(toClaimSources(rows), at - CLAIMS_MARGIN_MS));
        }),
      };
      map.set(key, (entry = created));
    }
    return entry;
  };
  return {
    load: (ctx, userId, appId) => slot(ctx, userId, appId).promise,
    loadWith: (ctx, userId, appId, read) => slot(ctx, userId, appId, read).promise,
    peek: (ctx, userId, appId) => perRequest.get(ctx)?.get(`${userId}\u0000${appId}`)?.value,
    takeStaleGrants: (ctx, userId, appId) => {
      const entry = perRequest.get(ctx)?.get(`${userId}\u0000${appId}`);
      if (!entry) return [];
      const stale = entry.stale;
      entry.stale = [];
      return stale;
    },
  };
}

/**
 * Marks which members of an account's claims came from mappings. Their names are
 * data, not configuration, so oidc-provider's static claims table cannot list them;
 * releaseMappedClaims lets exactly these through (see claims-release.ts).
 */
export const MAPPED_CLAIMS = Symbol('interim.mappedClaims');

/** Routes that issue or serve tokens: compute the claims before oidc-provider asks for a lifetime. */
const EAGER_ROUTES = new Set(['token', 'userinfo']);

/**
 * findAccount reloads the user every time and refuses a deleted or disabled one, or one
 * who must still replace a one-time password. Claims: sub always; email and name with
 * their scopes; the application's mapped claims with `openid`.
 */
/**
 * On PostgreSQL each statement is a round trip (and a pool checkout), so the token endpoint
 * and userinfo read the user, their claim sources and the named resource server in one. On
 * SQLite there is no round trip to save, and the joined statement measured slower than the
 * separate ones (SQLite materialises the claims subquery), so it keeps them apart.
 */
export function createFindAccount(db: Db, dialect: DialectName, clock: Clock, claimsCache: ClaimsCache, resources: PrefetchedResources, prefetched: PrefetchedAccounts = new WeakMap()): FindAccount {
  const usage = createGrantUsageRepo(db);
  const findUser = prepare<{ id: string }, UserRow>(db, (p) => accountQuery(db, p('id')));
  const findUserWithClaims = prepare<{ id: string; app_id: string; at: number }, AccountRow>(db, (p) => accountWithClaimsQuery(db, p('id'), p('app_id'), p('at')));
  const findUserWithClaimsForToken = prepare<{ id: string; app_id: string; at: number }, AccountRow>(db, (p) => accountWithClaimsQuery(db, p('id'), p('app_id'), p('at'), undefined, true));
  // An audience is named only at the token endpoint.
  const findUserWithClaimsAndResource = prepare<{ id: string; app_id: string; at: number; audience: string }, AccountRow>(db, (p) =>
    accountWithClaimsQuery(db, p('id'), p('app_id'), p('at'), p('audience'), true),
  );
  /** The rows read earlier in this request for this user, application and audience, taken once. */
  const takePrefetched = (ctx: object, userId: string, appId: string, audience: string | undefined) => {
    const ahead = prefetched.get(ctx);
    if (!ahead || ahead.userId !== userId || ahead.appId !== appId || ahead.audience !== audience) return undefined;
    prefetched.delete(ctx);
    return ahead.rows;
  };

  return async function findAccount(ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
    const appId = ctx.oidc.client?.clientId;
    let user: UserRow | undefined;
    let read = false;
    if (appId && EAGER_ROUTES.has(ctx.oidc.route) && dialect === 'sqlite') {
      const [result] = await Promise.all([findUser({ id: sub }), claimsCache.load(ctx, sub, appId)]);
      user = result.rows[0];
      read = true;
    } else if (appId && EAGER_ROUTES.has(ctx.oidc.route)) {
      const audience = ctx.oidc.route === 'token' ? ctx.oidc.params?.resource : undefined;
      await claimsCache.loadWith(ctx, sub, appId, async (at) => {
        const rows =
          takePrefetched(ctx, sub, appId, typeof audience === 'string' ? audience : undefined) ??
          (typeof audience === 'string'
            ? (await findUserWithClaimsAndResource({ id: sub, app_id: appId, at, audience })).rows
            : (await (ctx.oidc.route === 'token' ? findUserWithClaimsForToken : findUserWithClaims)({ id: sub, app_id: appId, at })).rows);
        read = true;
        user = rows[0];
        if (rows[0] && typeof audience === 'string') {
          const r = rows[0];
          resources.set(ctx, { audience, appId, row: r.r_audience ? { audience: r.r_audience, scopes: r.r_scopes ?? '[]', app_id: r.r_app_id ?? null } : undefined });
        }
        return rows.filter((r): r is typeof r & ClaimSourceRow => r.claim !== null && r.value_json !== null);
      });
    }
    if (!read) user = (await findUser({ id: sub })).rows[0];
    if (!user || user.disabled === 1 || user.must_change_password === 1) return undefined;
    // A token for this application is being issued to this user: record the use of the
    // grants it carries whose last use is stale (at most one conditional write, none when fresh).
    if (appId && ctx.oidc.route === 'token') await usage.recordUse(claimsCache.takeStaleGrants(ctx, sub, appId), clock.now());
    return accountOf(ctx, user, appId, claimsCache);
  };
}

/** The account oidc-provider sees: sub always, email and name with their scopes, the mapped claims with `openid`. */
function accountOf(ctx: KoaContextWithOIDC, user: UserRow, appId: string | undefined, claimsCache: ClaimsCache): Account {
  return {
    accountId: user.id,
    async claims(_use, scope): Promise<AccountClaims> {
      const scopes = new Set(scope.split(' '));
      const claims: AccountClaims & { [MAPPED_CLAIMS]?: string[] } = { sub: user.id };
      if (scopes.has('email')) claims.email = user.email;
      if (scopes.has('profile')) claims.name = user.name;
      if (appId && scopes.has('openid')) {
        const mapped = await claimsCache.load(ctx, user.id, appId);
        Object.assign(claims, mapped.claims);
        claims[MAPPED_CLAIMS] = Object.keys(mapped.claims);
      }
      return claims;
    },
  };
}
