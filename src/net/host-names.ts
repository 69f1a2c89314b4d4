import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The form an allowlist stores and compares: a lowercase ASCII DNS name (punycode for
 * international names), an IPv4 literal, or an IPv6 literal without brackets. Null
 * when the input is not a bare host name (a scheme, port, path or stray character).
 */
export function normalizeHostName(input: string): string | null {
  const text = input.trim().toLowerCase();
  if (isIPv4(text)) return text;
  const v6 = text.replace(/^\[(.*)\]$/, '$1');
  if (isIPv6(v6)) return hostOfUrl(new URL(`https://[${v6}]/`));
  if (text.length === 0 || text.length > 253) return null;
  if (!text.split('.').every((label) => LABEL.test(label))) return null;
  // The URL parser is what http.fetch compares against: a name it would rewrite
  // (such as 1.2.3, which it reads as an IPv4 address) can never match, so refuse it.
  try {
    return hostOfUrl(new URL(`https://${text}/`)) === text ? text : null;
  } catch {
    return null;
  }
}

/** The host of a parsed URL in allowlist form: lowercase, IPv6 without brackets. */
export function hostOfUrl(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}
