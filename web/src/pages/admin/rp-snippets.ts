import type { Application } from '../../api/admin-types.ts';

/** Where a relying party finds Interim: the issuer and its discovery document. */
export interface Endpoints {
  issuer: string;
  discoveryUrl: string;
}

export const endpointsOf = (issuer: string): Endpoints => ({ issuer, discoveryUrl: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration` });

/** Stands in for the secret, which Interim shows only when it is made or rotated. */
export const SECRET_PLACEHOLDER = '<the client secret shown when it was created or last rotated>';

const confidential = (app: Pick<Application, 'token_endpoint_auth_method'>) => app.token_endpoint_auth_method !== 'none';

/** Environment variables for the relying party, never with the secret itself. */
export function envSnippet(app: Pick<Application, 'client_id' | 'redirect_uris' | 'post_logout_redirect_uris' | 'token_endpoint_auth_method'>, endpoints: Endpoints): string {
  const lines = [`OIDC_ISSUER=${endpoints.issuer}`, `OIDC_CLIENT_ID=${app.client_id}`];
  if (confidential(app)) lines.push(`OIDC_CLIENT_SECRET='${SECRET_PLACEHOLDER}'`);
  if (app.redirect_uris[0]) lines.push(`OIDC_REDIRECT_URI=${app.redirect_uris[0]}`);
  if (app.post_logout_redirect_uris[0]) lines.push(`OIDC_POST_LOGOUT_REDIRECT_URI=${app.post_logout_redirect_uris[0]}`);
  return lines.join('\n');
}

/** The openid-client (v6) call that authenticates the client the way this application is registered. */
function clientAuth(app: Pick<Application, 'token_endpoint_auth_method'>): string {
  switch (app.token_endpoint_auth_method) {
    case 'client_secret_basic':
      return 'client.ClientSecretBasic(process.env.OIDC_CLIENT_SECRET)';
    case 'client_secret_post':
      return 'client.ClientSecretPost(process.env.OIDC_CLIENT_SECRET)';
    default:
      return 'client.None()';
  }
}

/** A ready-to-paste openid-client example: sign-in with PKCE, or client credentials for a machine client. */
export function openidClientSnippet(app: Pick<Application, 'grant_types' | 'token_endpoint_auth_method' | 'redirect_uris'>): string {
  const discovery = [
    "import * as client from 'openid-client';",
    '',
    'const config = await client.discovery(',
    '  new URL(process.env.OIDC_ISSUER),',
    '  process.env.OIDC_CLIENT_ID,',
    '  undefined,',
    `  ${clientAuth(app)},`,
    ');',
  ];
  if (!app.grant_types.includes('authorization_code')) {
    return [...discovery, '', '// A machine client: tokens for the client itself, no user.', 'const tokens = await client.clientCredentialsGrant(config);', 'console.log(tokens.access_token);'].join('\n');
  }
  const scope = app.grant_types.includes('refresh_token') ? 'openid email profile offline_access' : 'openid email profile';
  return [
    ...discovery,
    '',
    '// 1. Send the user to Interim (keep the verifier and state in their session).',
    'const code_verifier = client.randomPKCECodeVerifier();',
    'const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);',
    'const state = client.randomState();',
    'const signInUrl = client.buildAuthorizationUrl(config, {',
    '  redirect_uri: process.env.OIDC_REDIRECT_URI,',
    `  scope: '${scope}',`,
    '  code_challenge,',
    "  code_challenge_method: 'S256',",
    '  state,',
    '});',
    '',
    '// 2. On the redirect URI: trade the code for tokens; the claims carry what the mappings give.',
    'const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: code_verifier, expectedState: state });',
    'console.log(tokens.claims());',
  ].join('\n');
}
