import type { Selectable } from 'kysely';
import type { Client, ClientMetadata } from 'oidc-provider';
import type { ApplicationsTable } from '../db/schema.ts';
import { constantTimeEqual, sha256 } from '../security/tokens.ts';

type ApplicationRow = Selectable<ApplicationsTable>;

/** Per-application settings carried on the client as extra metadata (never sent to anyone). */
export const EXTRA_CLIENT_PROPERTIES = ['interim_access_token_ttl', 'interim_id_token_ttl', 'interim_refresh_token_ttl', 'interim_first_party'] as const;

export interface AppSettings {
  accessTokenTtlSecs: number;
  idTokenTtlSecs: number;
  refreshTokenTtlSecs: number;
  firstParty: boolean;
}

function jsonList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * An application row as oidc-provider client metadata. client_secret holds the
 * SHA-256 of the secret, never the secret: see useHashedClientSecrets.
 */
export function clientMetadataOf(app: ApplicationRow): ClientMetadata {
  const grantTypes = jsonList(app.grant_types);
  const confidential = app.token_endpoint_auth_method !== 'none';
  return {
    client_id: app.id,
    client_name: app.name,
    ...(confidential && app.client_secret_hash ? { client_secret: app.client_secret_hash } : {}),
    token_endpoint_auth_method: app.token_endpoint_auth_method as ClientMetadata['token_endpoint_auth_method'],
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: jsonList(app.redirect_uris),
    post_logout_redirect_uris: jsonList(app.post_logout_redirect_uris),
    id_token_signed_response_alg: app.id_token_signed_response_alg as ClientMetadata['id_token_signed_response_alg'],
    interim_access_token_ttl: app.access_token_ttl_secs,
    interim_id_token_ttl: app.id_token_ttl_secs,
    interim_refresh_token_ttl: app.refresh_token_ttl_secs,
    interim_first_party: app.first_party === 1,
    // Back-channel logout: the provider puts `sid` in ID tokens for it; our outbox sends the logout tokens (backchannel-logout.ts).
    ...(app.backchannel_logout_uri ? { backchannel_logout_uri: app.backchannel_logout_uri, backchannel_logout_session_required: app.backchannel_logout_session_required === 1 } : {}),
  };
}

export function appSettings(client: Client): AppSettings {
  const extra = client as unknown as Record<(typeof EXTRA_CLIENT_PROPERTIES)[number], unknown>;
  const secs = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : fallback);
  return {
    accessTokenTtlSecs: secs(extra.interim_access_token_ttl, 3600),
    idTokenTtlSecs: secs(extra.interim_id_token_ttl, 3600),
    refreshTokenTtlSecs: secs(extra.interim_refresh_token_ttl, 14 * 86400),
    firstParty: extra.interim_first_party === true,
  };
}

/**
 * Client secrets are stored as SHA-256 (DESIGN rule 10), so the provider's own
 * comparison of the presented secret with client_secret would compare against the
 * hash. Replace it with hash-then-compare in constant time. HS* signatures and
 * client_secret_jwt need the raw secret and are disabled in the provider config.
 */
export function useHashedClientSecrets(ClientClass: { prototype: Client }): void {
  const proto = ClientClass.prototype as unknown as { compareClientSecret(presented: string): Promise<boolean> | boolean; clientSecret?: string };
  proto.compareClientSecret = function compareHashedClientSecret(this: { clientSecret?: string }, presented: string) {
    if (typeof presented !== 'string' || typeof this.clientSecret !== 'string') return false;
    return constantTimeEqual(sha256(presented), this.clientSecret);
  };
}

/** CORS for browser clients: an origin is allowed when one of the client's redirect URIs lives there. */
export function originAllowedForClient(origin: string, client: Client): boolean {
  return (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin);
}
