import { invalidField, type AppError } from '../../http/errors.ts';

/** Hosts where plain http is acceptable: the redirect never leaves the machine (RFC 8252 §7.3). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * What every URI an application registers must be (redirect, post-logout redirect,
 * back-channel logout): absolute, without a fragment or credentials. The URL, or why not.
 */
export function parseRegisteredUri(value: string): URL | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  // URL drops an empty fragment ("…/cb#"), so look at the raw text too.
  if (value.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  return url;
}

/** Why a redirect (or post-logout redirect) URI is unacceptable, or null when it is fine. */
export function redirectUriProblem(value: string): string | null {
  const url = parseRegisteredUri(value);
  if (typeof url === 'string') return url;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? null : 'http is allowed only for localhost, 127.0.0.1 and [::1]; use https';
  return 'must use https (or http on a loopback host)';
}

export interface ClientShape {
  grant_types: readonly string[];
  redirect_uris: readonly string[];
  token_endpoint_auth_method: string;
}

/** Rules across fields, checked on the merged result of a create or a PATCH. */
export function clientShapeProblem(client: ClientShape): AppError | null {
  if (client.grant_types.includes('authorization_code') && client.redirect_uris.length === 0) {
    return invalidField('redirect_uris', 'at least one is required when grant_types includes authorization_code');
  }
  if (client.token_endpoint_auth_method === 'none' && client.grant_types.includes('client_credentials')) {
    return invalidField('grant_types', 'client_credentials needs a confidential client; a public client (token_endpoint_auth_method none) cannot use it');
  }
  return null;
}

/** A public client has no secret; every other method authenticates with one. */
export const isConfidential = (method: string) => method !== 'none';
