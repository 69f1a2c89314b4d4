import { BlockList, isIP } from 'node:net';

/**
 * Addresses no webhook may name literally unless private hosts are allowed. This is early
 * feedback for the admin only: the sender resolves every name and checks each address
 * again when it connects (DESIGN rule 11), which is what actually keeps requests inside.
 */
const nonPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv6');
}

function isNonPublicHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  return family !== 0 && nonPublic.check(host, family === 4 ? 'ipv4' : 'ipv6');
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
  if (!opts.allowPrivate && isNonPublicHost(url.hostname)) return 'must not point at a loopback, private or other non-public address';
  return null;
}
