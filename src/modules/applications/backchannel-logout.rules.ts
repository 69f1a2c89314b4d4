import { isIP } from 'node:net';
import { invalidField, type AppError } from '../../http/errors.ts';
import { isPublicAddress } from '../../net/address-policy.ts';
import { hostOfUrl } from '../../net/host-names.ts';
import { parseRegisteredUri } from './applications.rules.ts';

/**
 * Why a `backchannel_logout_uri` is malformed, or null (the schema's check, before any policy):
 * an absolute http(s) URL without credentials or fragment (Back-Channel Logout 1.0 §2.2).
 */
export function backchannelLogoutUriShapeProblem(value: string): string | null {
  const url = parseRegisteredUri(value);
  if (typeof url === 'string') return url;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https';
  return null;
}

/**
 * The outbound policy webhooks follow (DESIGN rule 11), checked when an admin saves the URI:
 * https to a public host; plain http and loopback or private hosts only where
 * `outbound.allowPrivate` is set (development, tests). This is early feedback: the sender
 * (safe-fetch) resolves the host and checks every address again when it connects.
 */
export function backchannelLogoutUriPolicyError(value: string | null | undefined, opts: { allowPrivate: boolean }): AppError | null {
  if (value === null || value === undefined) return null;
  const url = new URL(value);
  if (url.protocol !== 'https:' && !opts.allowPrivate) return invalidField('backchannel_logout_uri', 'must be an https URL');
  if (!opts.allowPrivate && isNonPublicHost(url)) return invalidField('backchannel_logout_uri', 'must not point at a loopback, private or other non-public address');
  return null;
}

function isNonPublicHost(url: URL): boolean {
  const host = hostOfUrl(url).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && !isPublicAddress(host);
}
