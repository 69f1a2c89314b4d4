import type { Account, AccountClaims, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/database.ts';
import { CLAIMS_MARGIN_MS, mergeClaims, type EffectiveClaims } from '../modules/claims/index.ts';
import { claimSourcesQuery, toClaimSources, type ClaimSourceRow } from '../modules/claims/claims.repo.ts';
import { accountQuery } from '../modules/users/users.repo.ts';
import { prepare } from './prepared.ts';

/**
 * effectiveClaims, computed at most once per (request, user, application). The token
 * endpoint needs the same answer three times (the access token's lifetime, its extra
 * claims and the ID token), and the lifetime hook is synchronous, so the answer must
 * already be there when oidc-provider asks for it.
 */
export interface ClaimsCache {
  load(ctx: object, userId: string, appId: string): Promise<EffectiveClaims>;
  /** The answer if this request already computed it. */
  peek(ctx: object, userId: string, appId: string): EffectiveClaims | undefined;
}

export function createClaimsCache(db: Db, clock: Clock): ClaimsCache {
  // The one claims query (claims.repo.ts), compiled once: it runs on every token, userinfo and introspection.
  const sourcesQuery = prepare<{ user_id: string; app_id: string; at: number }, ClaimSourceRow>(db, (p) => claimSourcesQuery(db, p('user_id'), p('app_id'), p('at')));
  const effectiveClaims = async (userId: string, appId: string, at: number) =>
    mergeClaims(toClaimSources((await sourcesQuery({ user_id: userId, app_id: appId, at })).rows));
  const perRequest = new WeakMap<object, Map<string, { promise: Promise<EffectiveClaims>; value?: EffectiveClaims }>>();
  const slot = (ctx: object, userId: string, appId: string) => {
    let map = perRequest.get(ctx);
    if (!map) perRequest.set(ctx, (map = new Map()));
    const key = `${userId}\u0000${appId}`;
    let entry = map.get(key);
    if (!entry) {
      const created: { promise: Promise<EffectiveClaims>; value?: EffectiveClaims } = {
        promise: effectiveClaims(userId, appId, clock.now() + CLAIMS_MARGIN_MS).then((value) => (created.value = value)),
      };
      map.set(key, (entry = created));
    }
    return entry;
  };
  return {
    load: (ctx, userId, appId) => slot(ctx, userId, appId).promise,
    peek: (ctx, userId, appId) => perRequest.get(ctx)?.get(`${userId}\u0000${appId}`)?.value,
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
export function createFindAccount(db: Db, claimsCache: ClaimsCache): FindAccount {
  const findUser = prepare<{ id: string }, { id: string; email: string; name: string; disabled: number; must_change_password: number }>(db, (p) =>
    accountQuery(db, p('id')),
  );

  return async function findAccount(ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
    const appId = ctx.oidc.client?.clientId;
    const [result] = await Promise.all([findUser({ id: sub }), appId && EAGER_ROUTES.has(ctx.oidc.route) ? claimsCache.load(ctx, sub, appId) : undefined]);
    const user = result.rows[0];
    if (!user || user.disabled === 1 || user.must_change_password === 1) return undefined;
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
  };
}
