import type { ClientMetadata } from 'oidc-provider';

/**
 * The built-in command-line client (DESIGN "Assurance"): a public client the server
 * defines itself, as a static oidc-provider client, so it is no application row and the
 * applications API can neither edit nor delete it. It alone may use the device
 * authorization grant (RFC 8628) and token exchange (RFC 8693).
 */
export const CLI_CLIENT_ID = 'interim-cli';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Device codes live 5 minutes (DESIGN). */
export const DEVICE_CODE_TTL_SECS = 300;
/** The CLI caches its access token until shortly before this; a refresh gets the next one. */
export const CLI_ACCESS_TOKEN_TTL_SECS = 15 * 60;
/** A CLI sign-in lasts this long without use (refresh tokens rotate and keep the first one's lifetime). */
export const CLI_REFRESH_TOKEN_TTL_SECS = 30 * 86400;

export const cliClientMetadata = (): ClientMetadata => ({
  client_id: CLI_CLIENT_ID,
  client_name: 'Interim command line',
  token_endpoint_auth_method: 'none',
  grant_types: [DEVICE_CODE_GRANT, 'refresh_token', TOKEN_EXCHANGE_GRANT],
  response_types: [],
  redirect_uris: [],
  id_token_signed_response_alg: 'EdDSA',
  interim_access_token_ttl: CLI_ACCESS_TOKEN_TTL_SECS,
  interim_id_token_ttl: CLI_ACCESS_TOKEN_TTL_SECS,
  interim_refresh_token_ttl: CLI_REFRESH_TOKEN_TTL_SECS,
  // No consent page: the confirm page is the user's consent, and the CLI is Interim's own.
  interim_first_party: true,
});
