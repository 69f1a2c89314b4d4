import { mergeClaims, stillHolds, type ClaimSource, type EffectiveClaims } from './claims.ts';

/**
 * Grant windows at the claims decision point (DESIGN: claims and time windows). A source
 * counts only while `startsAt ≤ now < expiresAt`: the query (claims.repo.ts) already drops
 * what has ended; this splits off what has not started yet. Those sources give nothing,
 * but the earliest start among them that would change the claims becomes `changesAt`, so
 * a token issued before a window opens cannot live into it (cappedTokenTtlSecs): a token
 * issued at 09:59 neither carries access that starts at 10:00 nor outlives 10:00.
 *
 * "Would change" is judged per source, conservatively: a source whose value the current
 * claims already hold (the same string, each list item, the same boolean) changes nothing;
 * anything else counts, so a token is at worst capped once too often, never too seldom.
 * With no source still to start (nearly always), this is mergeClaims and one pass.
 */
export function mergeWindowedClaims(sources: readonly ClaimSource[], now: number): EffectiveClaims {
  if (!sources.some((s) => notStarted(s, now))) return mergeClaims(sources);
  const current = sources.filter((s) => !notStarted(s, now));
  const merged = mergeClaims(current);
  let changesAt: number | null = null;
  for (const source of sources) {
    if (!notStarted(source, now)) continue;
    const startsAt = source.startsAt!;
    if (changesAt !== null && startsAt >= changesAt) continue;
    // What the source alone would give (reserved names and malformed values give nothing).
    const adds = mergeClaims([{ ...source, startsAt: null }]).claims;
    if (Object.keys(adds).length > 0 && !stillHolds(adds, merged.claims)) changesAt = startsAt;
  }
  return changesAt === null ? merged : { ...merged, changesAt };
}

const notStarted = (source: ClaimSource, now: number): boolean => source.startsAt !== undefined && source.startsAt !== null && source.startsAt > now;
