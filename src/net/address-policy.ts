import { isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of address an IP is, for outbound HTTP (DESIGN rule 11). Only `public`
 * may be reached unless an admin allows private hosts. The tables follow the IANA
 * special-purpose registries (RFC 6890 and successors); anything outside IPv6 global
 * unicast (2000::/3) is `reserved`.
 */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'invalid';

export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === 'public';
}

/** Classifies an IPv4 or IPv6 literal (an IPv6 zone such as `%eth0` is ignored). */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(bare)) return classifyIPv4(bare.split('.').map(Number) as Octets);
  const withoutZone = bare.split('%')[0]!;
  if (isIPv6(withoutZone)) return classifyIPv6(ipv6Groups(withoutZone));
  return 'invalid';
}

type Octets = [number, number, number, number];

function classifyIPv4([a, b, c, d]: Octets): AddressClass {
  if (a === 0) return 'unspecified'; // 0.0.0.0/8, "this network"
  if (a === 10) return 'private';
  if (a === 100 && (b & 0xc0) === 64) return 'shared'; // 100.64.0.0/10, carrier-grade NAT
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link_local'; // cloud metadata endpoints live here
  if (a === 172 && (b & 0xf0) === 16) return 'private';
  if (a === 192 && b === 0 && c === 0) return 'reserved'; // IETF protocol assignments
  if (a === 192 && b === 0 && c === 2) return 'documentation';
  if (a === 192 && b === 88 && c === 99) return 'reserved'; // former 6to4 relay anycast
  if (a === 192 && b === 168) return 'private';
  if (a === 198 && (b & 0xfe) === 18) return 'benchmarking'; // 198.18.0.0/15
  if (a === 198 && b === 51 && c === 100) return 'documentation';
  if (a === 203 && b === 0 && c === 113) return 'documentation';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a === 255 && b === 255 && c === 255 && d === 255) return 'broadcast';
  if (a >= 240) return 'reserved';
  return 'public';
}

function classifyIPv6(g: number[]): AddressClass {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embedded = (hi: number, lo: number): Octets => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && g[7] === 1) return 'loopback';
  if (zeroUpTo(5) && g[5] === 0xffff) return classifyIPv4(embedded(g[6]!, g[7]!)); // IPv4-mapped ::ffff:a.b.c.d
  if (zeroUpTo(6)) return 'reserved'; // deprecated IPv4-compatible ::a.b.c.d
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return 'reserved'; // IPv4-translated ::ffff:0:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyIPv4(embedded(g[6]!, g[7]!)); // NAT64
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private'; // local-use NAT64 64:ff9b:1::/48
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return 'reserved'; // discard-only 100::/64
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'reserved'; // 2001::/23, Teredo included
  if (g[0] === 0x2002) {
    // 6to4 carries an IPv4 address; it is only as public as that address.
    const inner = classifyIPv4(embedded(g[1]!, g[2]!));
    return inner === 'public' ? 'public' : inner;
  }
  if (g[0] === 0x3fff && g[1]! < 0x1000) return 'documentation'; // 3fff::/20
  if ((g[0]! & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link_local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  if ((g[0]! & 0xe000) !== 0x2000) return 'reserved'; // outside global unicast 2000::/3
  return 'public';
}

/** Eight 16-bit groups of a valid IPv6 literal, with `::` expanded and a dotted tail converted. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as Octets;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = text.split('::') as [string, string | undefined];
  const head = left ? left.split(':') : [];
  const rest = right === undefined ? [] : right ? right.split(':') : [];
  const groups = right === undefined ? head : [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  return groups.map((h) => parseInt(h, 16));
}
