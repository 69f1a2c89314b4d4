/**
 * What a user's memberships mean for one application, as pure functions. The query
 * lives in claims.repo.ts; these rules are the same for every token, refresh, userinfo
 * and introspection (DESIGN rule 1).
 */

export type ClaimValue = string | string[] | boolean;

export interface EffectiveClaims {
  claims: Record<string, ClaimValue>;
  /**
   * The earliest instant (epoch ms) at which a value stops being true, counting only
   * values that come from temporary sources alone. Null when every value is permanent.
   */
  expiresAt: number | null;
  /**
   * The earliest instant (epoch ms) at which a grant whose window has not opened yet would
   * change these claims (windows.ts); absent or null when none would.
   */
  changesAt?: number | null;
}

/** One mapping reaching the user through one group: its claim, its value and how long it holds. */
export interface ClaimSource {
  claim: string;
  value: unknown;
  /** Epoch ms at which this source stops counting; null for a permanent source. */
  expiresAt: number | null;
  /** Epoch ms from which this source counts (a scheduled grant's window); null or absent: already. */
  startsAt?: number | null;
}

/**
 * Names a mapping can never emit. The first group is the product rule (DESIGN, tokens
 * and revocation); the second are protocol members that oidc-provider writes itself
 * and that a mapping would otherwise shadow or be silently overwritten by; `name` is
 * Interim's own profile claim.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'email', 'email_verified',
  'azp', 'nonce', 'auth_time', 'acr', 'amr', 'sid', 'at_hash', 'c_hash', 's_hash', 'cnf',
  'client_id', 'scope', 'active', 'token_type', 'typ', 'authorization_details', 'name',
]);

export const EMPTY_CLAIMS: EffectiveClaims = Object.freeze({ claims: Object.freeze({}) as Record<string, ClaimValue>, expiresAt: null });

/** A source holds until the earlier of its group's and its membership's expiry. */
export function sourceExpiry(groupExpiresAt: number | null, membershipExpiresAt: number | null): number | null {
  if (groupExpiresAt === null) return membershipExpiresAt;
  if (membershipExpiresAt === null) return groupExpiresAt;
  return Math.min(groupExpiresAt, membershipExpiresAt);
}

/** A value holds as long as its longest-lived source: null (permanent) wins. */
function latest(a: number | null | undefined, b: number | null): number | null {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return Math.max(a, b);
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function isClaimValue(value: unknown): value is ClaimValue {
  return typeof value === 'string' || typeof value === 'boolean' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
}

/**
 * Merges every source into claims:
 * - the same claim from several mappings: lists become a sorted set union, booleans
 *   are ORed, equal scalars stay one scalar and differing scalars become a sorted list;
 *   a boolean mixed with strings joins the list as "true"/"false";
 * - each value lives as long as its longest-lived source, so a value that also comes
 *   from a permanent membership is not capped;
 * - expiresAt is the earliest expiry among values that only temporary sources give.
 * Reserved names and malformed values are dropped.
 */
export function mergeClaims(sources: readonly ClaimSource[]): EffectiveClaims {
  const byClaim = new Map<string, ClaimSource[]>();
  for (const source of sources) {
    if (RESERVED_CLAIMS.has(source.claim) || !isClaimValue(source.value)) continue;
    let list = byClaim.get(source.claim);
    if (!list) byClaim.set(source.claim, (list = []));
    list.push(source);
  }

  const claims: Record<string, ClaimValue> = {};
  let expiresAt: number | null = null;
  const noteValueExpiry = (valueExpiry: number | null) => {
    if (valueExpiry !== null && (expiresAt === null || valueExpiry < expiresAt)) expiresAt = valueExpiry;
  };

  for (const claim of [...byClaim.keys()].sort(byCodeUnit)) {
    const list = byClaim.get(claim)!;
    if (list.every((s) => typeof s.value === 'boolean')) {
      const value = list.some((s) => s.value === true);
      let valueExpiry: number | null | undefined;
      for (const s of list) if (s.value === value) valueExpiry = latest(valueExpiry, s.expiresAt);
      claims[claim] = value;
      noteValueExpiry(valueExpiry ?? null);
      continue;
    }
    const items = new Map<string, number | null>();
    let anyList = false;
    for (const s of list) {
      const value = s.value as ClaimValue;
      if (Array.isArray(value)) anyList = true;
      for (const item of Array.isArray(value) ? value : [String(value)]) items.set(item, latest(items.get(item), s.expiresAt));
    }
    const values = [...items.keys()].sort(byCodeUnit);
    claims[claim] = !anyList && values.length === 1 ? values[0]! : values;
    for (const valueExpiry of items.values()) noteValueExpiry(valueExpiry);
  }
  return { claims, expiresAt };
}

/**
 * Seconds an access (or ID) token may live. A token that carries a value from a
 * temporary grant lives at most `tempTtlSecs` and never past that grant's expiry; a
 * token whose claims are unknown gets the same short cap rather than the long one.
 * Whole seconds, at least one: claims are computed with a second of margin (see
 * CLAIMS_MARGIN_MS), so the floor never reaches past the expiry. Any token is also
 * capped at `changesAt`, the start of a scheduled grant's window that would change its
 * claims (windows.ts), so it never lives into a window it was not issued for.
 */
export function cappedTokenTtlSecs(opts: { clientTtlSecs: number; tempTtlSecs: number; claims: EffectiveClaims | undefined; now: number }): number {
  const { clientTtlSecs, tempTtlSecs, claims, now } = opts;
  if (!claims) return Math.max(1, Math.min(clientTtlSecs, tempTtlSecs));
  // Nor past the start of a window it was not issued for (windows.ts): only the lifetime, not the short cap.
  const untilChange = claims.changesAt != null ? Math.floor((claims.changesAt - now) / 1000) : Infinity;
  if (claims.expiresAt === null) return Math.max(1, Math.min(clientTtlSecs, untilChange));
  return Math.max(1, Math.min(clientTtlSecs, tempTtlSecs, Math.floor((claims.expiresAt - now) / 1000), untilChange));
}

/**
 * Tokens live whole seconds, so a value with less than this left is not issued at all:
 * otherwise a one-second token could outlive the grant that gave it.
 */
export const CLAIMS_MARGIN_MS = 1000;

const itemsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : typeof value === 'string' || typeof value === 'boolean' ? [String(value)] : [];

/**
 * True when the user still has every value a token carries (DESIGN rule 1, applied to
 * introspection): each string, and each member of a list, is still among the claim's
 * current values, and a boolean still has the same value. Values the user gained since
 * do not matter; a value that is gone makes the whole token stale.
 */
export function stillHolds(carried: Readonly<Record<string, unknown>> | undefined, current: Readonly<Record<string, ClaimValue>>): boolean {
  if (!carried) return true;
  for (const [claim, value] of Object.entries(carried)) {
    if (value === undefined) continue;
    const now = current[claim];
    if (now === undefined) return false;
    if (typeof value === 'boolean') {
      if (now !== value) return false;
      continue;
    }
    const held = new Set(itemsOf(now));
    if (!itemsOf(value).every((item) => held.has(item))) return false;
  }
  return true;
}
