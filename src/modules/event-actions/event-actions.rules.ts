import { isIP } from 'node:net';
import { isPublicAddress } from '../../net/address-policy.ts';
import { hostOfUrl } from '../../net/host-names.ts';

/**
 * A literal non-public address, or a localhost name. This is early feedback for the
 * admin only: the sender resolves every name and checks each address again when it
 * connects (DESIGN rule 11), which is what actually keeps requests inside.
 */
function isNonPublicHost(url: URL): boolean {
  const host = hostOfUrl(url).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && !isPublicAddress(host);
}

/**
 * Why a webhook or Slack URL is refused, or null when it is fine: an absolute https URL
 * without credentials. With `allowPrivate` (development and tests) plain http and
 * private hosts are allowed too.
 */
export function outboundUrlError(raw: string, opts: { allowPrivate: boolean }): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  const httpOk = opts.allowPrivate && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpOk) return opts.allowPrivate ? 'must be an http or https URL' : 'must be an https URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (!opts.allowPrivate && isNonPublicHost(url)) return 'must not point at a loopback, private or other non-public address';
  return null;
}
