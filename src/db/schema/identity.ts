import type { Generated } from 'kysely';
import type { Flag } from './flag.ts';

/** Users, groups, applications and their claim mappings, API tokens, sign-in state, OIDC storage, settings, the audit chain and resource servers. */

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  is_admin: Flag;
  disabled: Flag;
  must_change_password: Flag;
  /** IANA zone the portal shows this user's times in; null: the browser's (migration 0016). */
  time_zone: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface GroupsTable {
  id: string;
  name: string;
  description: string;
  is_system: Flag;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface MembershipsTable {
  group_id: string;
  user_id: string;
  expires_at: number | null;
  /** When the membership starts counting (a scheduled grant's window); null: at once. */
  starts_at: number | null;
  created_at: number;
}

/**
 * Usage facts of one grant (issue 14 §6): the first and the last token issued for its
 * application to its requester after activation. Keyed by the grant's group; written by the
 * token path only when `last_used_at` is at least 60 s stale (src/modules/claims/usage.ts).
 */
export interface GrantUsageTable {
  group_id: string;
  request_id: string;
  first_used_at: number | null;
  last_used_at: number | null;
}

export interface ApplicationsTable {
  id: string;
  name: string;
  description: string;
  client_secret_hash: string | null;
  token_endpoint_auth_method: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string;
  id_token_signed_response_alg: string;
  access_token_ttl_secs: number;
  id_token_ttl_secs: number;
  refresh_token_ttl_secs: number;
  first_party: Flag;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** Back-channel logout (migration 0014): where logout tokens go, or null; whether each must carry `sid`. */
  backchannel_logout_uri: Generated<string | null>;
  backchannel_logout_session_required: Generated<Flag>;
}

export interface MappingsTable {
  id: string;
  app_id: string;
  claim: string;
  value_json: string;
  description: string;
  created_at: number;
  updated_at: number;
}

export interface MappingGroupsTable {
  mapping_id: string;
  group_id: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  expires_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  /** How the user signed in (RFC 8176 values), a JSON array: ["pwd"], ["pwd","otp","mfa"], ["hwk","user"]. Null for sessions from before issue 15. */
  amr: string | null;
}

export interface LoginThrottleTable {
  key: string;
  /** Attempts in this window not (yet) known to have succeeded: reserved before the password is checked. */
  failures: number;
  window_start: number;
  /** window_start of the window whose failures were audited already (one event per key per window). */
  failure_audited_window: number | null;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

/**
 * The OIDC sign-in page's pending state, one row per interaction, short-lived and spent once:
 * the WebAuthn challenge of the page, and after a first step (a password, or a live portal
 * session stepping up) whose it was and how it was done. user_id null: nobody has passed a
 * first step yet (the challenge is for signing in with a passkey alone).
 */
export interface OidcSecondStepsTable {
  uid: string;
  user_id: string | null;
  /** The live portal session being stepped up (its amr is raised on success); null when the page signs in afresh. */
  session_id: string | null;
  /** JSON array of the first step's amr values (["pwd"]); [] before any. */
  first_amr: string;
  /** base64url WebAuthn challenge of this page. */
  challenge: string;
  created_at: number;
  expires_at: number;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk_encrypted: string;
  created_at: number;
  /** When the key leaves the JWKS (scheduled ahead by rotation); null while it has no successor. */
  retired_at: number | null;
  /** When the key starts signing: published first, signing from here (0 for keys made before rotation). */
  signs_from: number;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  at: number;
  actor_type: 'user' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

/** An API that clients may ask tokens for with a resource indicator (RFC 8707). */
export interface ResourceServersTable {
  id: string;
  /** The resource indicator, and the `aud` of the tokens issued for it. */
  audience: string;
  name: string;
  description: string;
  /** JSON array of the scopes the resource server accepts. */
  scopes: string;
  created_at: number;
  updated_at: number;
}

/** Which applications may ask tokens for a resource server. */
export interface ResourceServerAppsTable {
  resource_server_id: string;
  app_id: string;
}
