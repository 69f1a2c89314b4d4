import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Core } from '../core.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import { OAUTH_TEMPORARILY_UNAVAILABLE } from '../http/problem.ts';
import { createClaimsCache, createFindAccount, type PrefetchedAccounts } from './account.ts';
import { createAdapterFactory } from './adapter.ts';
import { answerOutagesAsUnavailable } from './outage.ts';
import { createRefreshRotation } from './rotation.ts';
import { releaseMappedClaims } from './claims-release.ts';
import { EXTRA_CLIENT_PROPERTIES, originAllowedForClient, useHashedClientSecrets } from './clients.ts';
import { SIGNING_ALGS, type OidcSecrets } from './keys.ts';
import { introspectionPolicy } from './introspection.ts';
import { assertPatchableInternals } from './library-contract.ts';
import { endPortalSessionOnLogout, portalSessionCheck } from './portal-session.ts';
import { createResourceServerInfo, type PrefetchedResources } from './resources.ts';
import { extraTokenClaims, loadExistingGrant, tokenTtls } from './token-policy.ts';
import { providerPageHeaders } from './page-headers.ts';
import { askBeforePortalSignOut, logoutSource } from './sign-out.ts';
import { leaveBackchannelLogoutToOutbox, signalEndedProviderSession } from './backchannel-logout.ts';
import { signOutSignal } from '../modules/backchannel-logout/index.ts';
import type { RecordSignals } from '../modules/signals/signals.types.ts';
import { errorPage, loggedOutPage } from './views.ts';
import { ACR, type SecondFactors } from '../modules/mfa/index.ts';
import { assertOnlyAcrRequested, useAcrCheck } from './acr-check.ts';
import { createCliCallers } from './cli-callers.ts';
import { cliClientMetadata } from './cli-client.ts';
import { deviceFlowFeature } from './device-flow.ts';
import { registerTokenExchange } from './token-exchange.ts';

export const OIDC_PREFIX = '/oidc';

export interface ProviderDeps {
  core: Pick<Core, 'db' | 'dialect' | 'clock' | 'audit'>;
  config: Pick<Config, 'baseUrl' | 'trustProxy' | 'tempAccessTokenTtlSecs' | 'session'>;
  secrets: OidcSecrets;
  /** Records the signal of a provider session ended by RP-initiated logout (issue 13); compose.ts's. */
  recordSignals?: RecordSignals;
  /** Device sign-in confirmation shows the second-factor field when the user has one (issue 15). */
  secondFactors?: Pick<SecondFactors, 'methodsOf' | 'webauthnOptions'>;
  /** Derives the passkey challenge of a device confirm page (device-flow.ts). */
  deviceChallengeKey?: Buffer;
}

/** The OpenID Provider at ${baseUrl}/oidc, wired to our database, keys, users and claims. */
export function createProvider(deps: ProviderDeps): Provider {
  const { core, config, secrets } = deps;
  const claimsCache = createClaimsCache(core.db, core.clock);
  const algs = [...SIGNING_ALGS];
  const rotation = createRefreshRotation(core.db, core.dialect, core.clock);
  const resourceRows: PrefetchedResources = new WeakMap();
  // PostgreSQL: the refresh grant's user and claims, read with its client and token (adapter.ts), for findAccount.
  const accountRows: PrefetchedAccounts = new WeakMap();
  const resourceServerInfo = createResourceServerInfo(core.db, resourceRows);

  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(portalSessionCheck());
  useAcrCheck(policy);

  const configuration: Configuration = {
    adapter: createAdapterFactory(core.db, core.dialect, core.clock, rotation, accountRows),
    findAccount: createFindAccount(core.db, core.dialect, core.clock, claimsCache, resourceRows, accountRows),
    jwks: { keys: secrets.keys as never[] },
    cookies: {
      keys: secrets.cookieKeys,
      names: { session: 'interim_oidc_session', interaction: 'interim_oidc_interaction', resume: 'interim_oidc_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    // Mapped claims are released by claims-release.ts, not through this table.
    // acr and amr ride with openid: every ID token says how its user signed in (issue 15).
    claims: { openid: ['sub', 'acr', 'amr'], email: ['email'], profile: ['name'] },
    acrValues: [ACR.password, ACR.mfa, ACR.phishingResistant],
    // ID tokens carry the claims of the granted scopes too; relying parties expect email there.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'EdDSA', token_endpoint_auth_method: 'client_secret_basic' },
    extraClientMetadata: { properties: [...EXTRA_CLIENT_PROPERTIES] },
    // Secrets are stored hashed, so nothing may be signed or encrypted with them: asymmetric algorithms only.
    enabledJWA: {
      idTokenSigningAlgValues: algs,
      userinfoSigningAlgValues: algs,
      introspectionSigningAlgValues: algs,
      authorizationSigningAlgValues: algs,
      requestObjectSigningAlgValues: algs,
      clientAuthSigningAlgValues: algs,
      dPoPSigningAlgValues: ['ES256', 'EdDSA'],
    },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    clockTolerance: 5,
    rotateRefreshToken: true,
    ttl: tokenTtls({ clock: core.clock, claimsCache, tempAccessTokenTtlSecs: config.tempAccessTokenTtlSecs, sessionTtlSecs: Math.floor(config.session.absoluteMs / 1000) }),
    extraTokenClaims: extraTokenClaims(claimsCache),
    loadExistingGrant,
    interactions: { policy, url: (_ctx, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}` },
    clientBasedCORS: (_ctx, origin, client) => originAllowedForClient(origin, client),
    // The built-in command-line client (issue 15): static, so the applications API never sees it.
    clients: [cliClientMetadata()],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      // For an essential acr request only (acr-check.ts).
      claimsParameter: { enabled: true, assertClaimsParameter: assertOnlyAcrRequested },
      introspection: {
        enabled: true,
        allowedPolicy: introspectionPolicy(claimsCache),
      },
      revocation: {
        enabled: true,
        // RFC 7009: a request about another client's token succeeds and does nothing.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (ctx, resource, client) => resourceServerInfo(ctx, resource, client),
        useGrantedResource: () => false,
      },
      rpInitiatedLogout: {
        enabled: true,
        // Our own question (sign-out.ts); askBeforePortalSignOut covers the case the provider does not ask.
        logoutSource: (ctx) => logoutSource(ctx),
        postLogoutSuccessSource: (ctx) => html(ctx, 200, loggedOutPage(ctx.oidc.client?.clientName)),
      },
      // For discovery metadata and `sid` in ID tokens; the logout tokens go through our outbox (backchannel-logout.ts).
      backchannelLogout: { enabled: true },
      // RFC 8628 for the built-in CLI client only (device-flow.ts).
      deviceFlow: deviceFlowFeature({ core, baseUrl: config.baseUrl, secondFactors: deps.secondFactors, challengeKey: deps.deviceChallengeKey }),
    },
    renderError: (ctx, out) => html(ctx, (ctx.status ?? 400) >= 400 ? ctx.status : 400, errorPage(String(out.error), out.error_description ? String(out.error_description) : undefined)),
  };

  const provider = new Provider(`${config.baseUrl}${OIDC_PREFIX}`, configuration);
  provider.proxy = config.trustProxy;
  assertPatchableInternals(provider);
  useHashedClientSecrets(provider.Client);
  releaseMappedClaims(provider);
  leaveBackchannelLogoutToOutbox(provider.Client);
  registerTokenExchange(provider, { core, claimsCache, resourceServerInfo, cliCallers: createCliCallers(core.db) });
  // Outermost first: the headers wrap every answer, the outage answer and the sign-out page swapped in below them
  // included; the outage answer covers everything below it, the rotation included.
  provider.use(providerPageHeaders());
  answerOutagesAsUnavailable(provider, (ctx) => html(ctx, 503, errorPage('temporarily_unavailable', OAUTH_TEMPORARILY_UNAVAILABLE.error_description)));
  provider.use(askBeforePortalSignOut());
  provider.use(rotation.commitRotation);
  provider.use(endPortalSessionOnLogout(core, SESSION_COOKIE));
  const { recordSignals } = deps;
  if (recordSignals) provider.use(signalEndedProviderSession(core, (trx, userId, sessions) => recordSignals(trx, [signOutSignal(userId, sessions, 'oidc')])));
  return provider;
}

/** A page from inside the provider; providerPageHeaders adds its headers on the way out. */
function html(ctx: KoaContextWithOIDC, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}
