import type { AccessToken, Client, ClientCredentials, Configuration, Grant, KoaContextWithOIDC, RefreshToken } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { cappedTokenTtlSecs, type ClaimValue } from '../modules/claims/index.ts';
import type { ClaimsCache } from './account.ts';
import { appSettings } from './clients.ts';
import { DEVICE_CODE_TTL_SECS } from './cli-client.ts';

export interface TokenPolicyDeps {
  clock: Clock;
  claimsCache: ClaimsCache;
  tempAccessTokenTtlSecs: number;
  sessionTtlSecs: number;
}

const AUTHORIZATION_CODE_TTL_SECS = 60;
const INTERACTION_TTL_SECS = 30 * 60;
/** Consent is remembered for a year, or longer when an application's refresh tokens live longer. */
const GRANT_TTL_SECS = 365 * 86400;

/**
 * Token lifetimes. No access token outlives its grant (DESIGN rule 1): when a claim
 * value comes only from temporary memberships or groups, an access token (opaque or
 * JWT, they share this hook) and the ID token live at most min(the application's TTL,
 * tempAccessTokenTtlSecs, the earliest such expiry − now). oidc-provider asks for the
 * lifetime synchronously, so the claims come from the per-request cache that
 * findAccount filled; if they are somehow missing, the short cap applies.
 * Refresh tokens rotate on every use and the chain keeps the first token's absolute
 * lifetime; each refresh recomputes claims, so a refresh token may outlive a grant.
 */
export function tokenTtls(deps: TokenPolicyDeps): NonNullable<Configuration['ttl']> {
  const { clock, claimsCache, tempAccessTokenTtlSecs } = deps;
  const capped = (ctx: KoaContextWithOIDC | undefined, accountId: string | undefined, client: Client, clientTtlSecs: number) => {
    if (!accountId) return clientTtlSecs;
    const claims = ctx ? claimsCache.peek(ctx, accountId, client.clientId) : undefined;
    return cappedTokenTtlSecs({ clientTtlSecs, tempTtlSecs: tempAccessTokenTtlSecs, claims, now: clock.now() });
  };
  return {
    AccessToken: (ctx, token: AccessToken, client) => capped(ctx, token.accountId, client, appSettings(client).accessTokenTtlSecs),
    ClientCredentials: (_ctx, _token: ClientCredentials, client) => appSettings(client).accessTokenTtlSecs,
    IdToken: (ctx, _token, client) => capped(ctx, ctx?.oidc.account?.accountId, client, appSettings(client).idTokenTtlSecs),
    RefreshToken: (ctx, _token: RefreshToken, client) => {
      const rotated = ctx?.oidc.entities.RotatedRefreshToken;
      return rotated ? Math.max(1, rotated.remainingTTL) : appSettings(client).refreshTokenTtlSecs;
    },
    AuthorizationCode: AUTHORIZATION_CODE_TTL_SECS,
    DeviceCode: DEVICE_CODE_TTL_SECS,
    Interaction: INTERACTION_TTL_SECS,
    Session: deps.sessionTtlSecs,
    Grant: (ctx, _grant: Grant) => {
      // Outside a provider request (our consent route) there is no client at hand.
      const client = ctx?.oidc?.client;
      return client ? Math.max(GRANT_TTL_SECS, appSettings(client).refreshTokenTtlSecs) : GRANT_TTL_SECS;
    },
  };
}

/**
 * The mapped claims of an access token's user, as of this issuance, from the same
 * cached answer that set its lifetime. They go into JWT access tokens and are stored
 * with opaque ones, which is where introspection reads them.
 */
export function extraTokenClaims(claimsCache: ClaimsCache) {
  return async (ctx: KoaContextWithOIDC, token: AccessToken | ClientCredentials): Promise<Record<string, ClaimValue> | undefined> => {
    if (token.kind !== 'AccessToken' || !token.accountId || !token.clientId) return undefined;
    const effective = claimsCache.peek(ctx, token.accountId, token.clientId) ?? (await claimsCache.load(ctx, token.accountId, token.clientId));
    return Object.keys(effective.claims).length ? { ...effective.claims } : undefined;
  };
}

/**
 * First-party applications skip consent: their grant is extended to whatever the
 * request asks for, as soon as the user is known. Others keep the library's behaviour
 * (the grant the user approved on our consent page).
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx;
  const client = oidc.client!;
  const accountId = oidc.session?.accountId;
  const grantId = oidc.result?.consent?.grantId || oidc.session?.grantIdFor(client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!accountId || !appSettings(client).firstParty) return grant;
  if (!grant || grant.accountId !== accountId) grant = new oidc.provider.Grant({ accountId, clientId: client.clientId });
  const scope = [...oidc.requestParamOIDCScopes].join(' ');
  if (scope) grant.addOIDCScope(scope);
  if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    if (server.scope) grant.addResourceScope(indicator, server.scope);
  }
  await grant.save();
  return grant;
}
