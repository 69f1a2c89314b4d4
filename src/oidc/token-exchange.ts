import type { AsymmetricSigningAlgorithm, Client, KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Core } from '../core.ts';
import { createGrantUsageRepo } from '../modules/claims/usage.repo.ts';
import type { ClaimsCache } from './account.ts';
import type { createCliCallers } from './cli-callers.ts';
import { ACCESS_TOKEN_TYPE, CLI_CLIENT_ID, TOKEN_EXCHANGE_GRANT } from './cli-client.ts';

export interface TokenExchangeDeps {
  core: Pick<Core, 'db' | 'clock' | 'audit'>;
  claimsCache: ClaimsCache;
  /** The registry's answer for (resource, application), as the token endpoint asks it (resources.ts). */
  resourceServerInfo: (ctx: object, resource: string, client: Client) => Promise<ResourceServer>;
  /** The API's lookup of a live CLI access token with its Grant and active user (cli-callers.ts), one statement. */
  cliCallers: Pick<ReturnType<typeof createCliCallers>, 'findLive'>;
}

const PARAMS = ['subject_token', 'subject_token_type', 'audience', 'resource', 'requested_token_type', 'scope'];

/**
 * `interim token --app CLIENT` (DESIGN "Assurance"): RFC 8693 token exchange at the token
 * endpoint, for the built-in CLI client only (no application can hold this grant type,
 * so the token endpoint answers others `unauthorized_client` before this runs). The
 * subject token is the CLI's own live access token; `audience` names the application, and
 * `resource` may name one of the resource servers that application may ask for (RFC 8707,
 * checked against the registry as the token endpoint checks it).
 * The answer is a JWT access token for that application (`aud` = its client id, or the
 * resource), with
 * the claims of the one decision point (the claims cache the token endpoint fills) and
 * the same lifetime caps (tokenTtls: no later than the earliest temporary grant's end).
 * Each exchange is audited.
 */
export function registerTokenExchange(provider: Provider, deps: TokenExchangeDeps): void {
  const { core, claimsCache, resourceServerInfo, cliCallers } = deps;
  const usage = createGrantUsageRepo(core.db);
  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client!;
      if (client.clientId !== CLI_CLIENT_ID) throw new errors.UnauthorizedClient('token exchange is for the Interim command line only');
      const params = ctx.oidc.params as Record<string, string | undefined>;
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (!params.subject_token) throw new errors.InvalidRequest('subject_token is missing');

      const subject = await cliCallers.findLive(params.subject_token, core.clock.now());
      if (!subject) throw new errors.InvalidGrant('subject_token is not a live access token of the Interim command line');
      if (subject.must_change_password === 1) throw new errors.InvalidGrant('the sign-in behind subject_token has ended');
      // Held back by the MFA policy until they enrol, as the API refuses this token (403 mfa_enrolment_required).
      if (subject.mfa_due_user) throw new errors.InvalidGrant('the MFA policy requires a second factor before the command line can be used');

      const audience = params.audience;
      const target = audience && audience !== CLI_CLIENT_ID ? await provider.Client.find(audience) : undefined;
      if (!target) throw new errors.InvalidTarget('audience must be the client id of an application');
      if (params.resource !== undefined && typeof params.resource !== 'string') throw new errors.InvalidTarget('only one resource may be named');
      const resource = params.resource ? await resourceServerInfo(ctx, params.resource, target) : undefined;

      // The one decision point: the same cached answer sets the lifetime cap and the token's claims.
      const userId = subject.user_id;
      const effective = await claimsCache.load(ctx, userId, target.clientId);
      await usage.recordUse(claimsCache.takeStaleGrants(ctx, userId, target.clientId), core.clock.now());

      const token = new provider.AccessToken({ accountId: userId, client: target, grantId: subject.grant_id, gty: TOKEN_EXCHANGE_GRANT, scope: 'openid' });
      // No scopes: the token says who the user is and what their grants give them, as the application's own tokens do.
      const aud = resource ? (resource.audience ?? params.resource!) : target.clientId;
      token.resourceServer = new provider.ResourceServer(aud, {
        audience: aud,
        scope: '',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: (target.idTokenSignedResponseAlg ?? 'EdDSA') as AsymmetricSigningAlgorithm } },
      });
      ctx.oidc.entity('AccessToken', token);
      const value = await token.save();

      await core.db.transaction().execute((trx) =>
        core.audit.append(trx, {
          actor: { userId, isAdmin: false, via: 'cli', mustChangePassword: false },
          action: 'oidc.token_exchange',
          targetType: 'application',
          targetId: target.clientId,
          data: { client_id: CLI_CLIENT_ID, audience: target.clientId, resource: resource?.audience ?? null, claims: Object.keys(effective.claims), expires_in: token.expiration },
        }),
      );
      ctx.body = { access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: token.expiration };
    },
    PARAMS,
  );
}
