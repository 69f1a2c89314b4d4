import type { AccessToken, ClientCredentials, Client, KoaContextWithOIDC, RefreshToken } from 'oidc-provider';
import { stillHolds } from '../modules/claims/index.ts';
import type { ClaimsCache } from './account.ts';

type IntrospectedToken = AccessToken | ClientCredentials | RefreshToken;

/**
 * Who may introspect a token, and whether it still stands. A client learns about its
 * own tokens only. An access token carries the user's mapped claims as they were at
 * issuance (extraTokenClaims); introspection answers with the claims at the instant it
 * is asked (DESIGN rule 1): when the user no longer has a value the token carries
 * (membership removed, group or mapping deleted, grant revoked or expired) the token
 * is reported inactive, through the same claims query that issues tokens.
 * oidc-provider answers `active: false` whenever this policy says no.
 */
export function introspectionPolicy(claimsCache: ClaimsCache) {
  return async (ctx: KoaContextWithOIDC, client: Client, token: IntrospectedToken): Promise<boolean> => {
    if (token.clientId !== client.clientId) return false;
    if (token.kind !== 'AccessToken' || !token.accountId) return true;
    const current = await claimsCache.load(ctx, token.accountId, token.clientId);
    return stillHolds(token.extra, current.claims);
  };
}
