import { errors, type AsymmetricSigningAlgorithm, type Client, type ResourceServer } from 'oidc-provider';
import type { Db } from '../db/database.ts';
import { parseScopes, resourceServerForClientQuery } from '../modules/resource-servers/resource-servers.repo.ts';
import { prepare } from './prepared.ts';

/**
 * Resource indicators (RFC 8707) against the registry of resource servers
 * (/api/v1/resource-servers). A resource is accepted only when it is registered and
 * the asking application is one of those it lists; anything else is `invalid_target`,
 * so a resource server that checks only `aud` never receives a token meant for another.
 * The token is a JWT whose `aud` is the resource and whose `client_id` names the
 * application; it carries the application's mapped claims and, of the scopes asked for,
 * those the resource server accepts. It is signed with the application's ID token
 * algorithm. One prepared, indexed query per resource asked for, or none when the
 * token endpoint already read it with the user's claims.
 */
export type ResourceServerRow = { audience: string; scopes: string; app_id: string | null };

/**
 * The registry's answer for (resource, application), read earlier in the same request by
 * a statement that fetched more besides (the token endpoint's user and claims, account.ts).
 * Keyed by the request's context; taken at most once.
 */
export type PrefetchedResources = WeakMap<object, { audience: string; appId: string; row: ResourceServerRow | undefined }>;

export function createResourceServerInfo(db: Db, prefetched: PrefetchedResources) {
  const lookup = prepare<{ audience: string; app_id: string }, ResourceServerRow>(db, (p) => resourceServerForClientQuery(db, p('audience'), p('app_id')));
  const rowFor = async (ctx: object, resource: string, appId: string): Promise<ResourceServerRow | undefined> => {
    const early = prefetched.get(ctx);
    if (early) prefetched.delete(ctx);
    if (early && early.audience === resource && early.appId === appId) return early.row;
    return (await lookup({ audience: resource, app_id: appId })).rows[0];
  };
  return async (ctx: object, resource: string, client: Client): Promise<ResourceServer> => {
    const row = await rowFor(ctx, resource, client.clientId);
    if (!row) throw new errors.InvalidTarget('resource is not a registered resource server');
    if (row.app_id === null) throw new errors.InvalidTarget('this application may not ask for this resource');
    return {
      scope: parseScopes(row.scopes).join(' '),
      audience: row.audience,
      accessTokenFormat: 'jwt' as const,
      jwt: { sign: { alg: (client.idTokenSignedResponseAlg ?? 'EdDSA') as AsymmetricSigningAlgorithm } },
    };
  };
}
