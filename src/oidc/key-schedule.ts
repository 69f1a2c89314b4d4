import type { OidcSecrets, PrivateJwk, SigningAlg } from './keys.ts';

/**
 * Which keys the provider publishes and signs with at an instant, as a pure function of
 * the stored schedule. Rotation (key-rotation.ts) never switches a key at once: the new
 * key is published first and signs only from `signsFrom`; the old one stays published
 * until `retiredAt`, when nothing it signed can still be valid.
 */
export interface ScheduledKey {
  jwk: PrivateJwk;
  signsFrom: number;
  retiredAt: number | null;
  createdAt: number;
}

export interface ScheduledCookieKey {
  key: string;
  signsFrom: number;
  retiredAt: number | null;
}

export interface KeySetAt {
  secrets: OidcSecrets;
  /** The next instant at which the answer changes (a key starts signing or retires); Infinity if none is scheduled. */
  validUntil: number;
}

const published = (k: { retiredAt: number | null }, now: number) => k.retiredAt === null || k.retiredAt > now;

/** The newest key that already signs comes first (it is the one that signs); the others follow, newest first. */
function signerFirst<T extends { signsFrom: number }>(keys: T[], now: number, tieBreak: (a: T, b: T) => number): T[] {
  const newestFirst = [...keys].sort((a, b) => b.signsFrom - a.signsFrom || tieBreak(a, b));
  const signer = newestFirst.find((k) => k.signsFrom <= now);
  return signer ? [signer, ...newestFirst.filter((k) => k !== signer)] : newestFirst;
}

export function keySetAt(keys: readonly ScheduledKey[], cookieKeys: readonly ScheduledCookieKey[], now: number): KeySetAt {
  const ordered: PrivateJwk[] = [];
  const algs = [...new Set(keys.map((k) => k.jwk.alg))] as SigningAlg[];
  for (const alg of algs) {
    const live = keys.filter((k) => k.jwk.alg === alg && published(k, now));
    ordered.push(...signerFirst(live, now, (a, b) => b.createdAt - a.createdAt || (a.jwk.kid < b.jwk.kid ? -1 : 1)).map((k) => k.jwk));
  }
  const cookies = signerFirst(
    cookieKeys.filter((k) => published(k, now)),
    now,
    () => 0,
  ).map((k) => k.key);

  let validUntil = Infinity;
  for (const k of [...keys, ...cookieKeys]) {
    for (const t of [k.signsFrom, k.retiredAt]) if (t !== null && t > now && t < validUntil) validUntil = t;
  }
  return { secrets: { keys: ordered, cookieKeys: cookies }, validUntil };
}

/** Cookie keys were stored as a list of strings, newest first, before rotation existed. */
export function parseCookieKeys(json: string): ScheduledCookieKey[] {
  const value = JSON.parse(json) as unknown[];
  return value.map((entry, i) =>
    typeof entry === 'string' ? { key: entry, signsFrom: -i, retiredAt: null } : (entry as ScheduledCookieKey),
  );
}
