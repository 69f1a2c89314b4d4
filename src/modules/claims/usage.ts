/**
 * When the token path records a grant's use (issue 14 §6; DESIGN: "usage facts for insights
 * ride on a statement the token path already runs; last_used_at is written only when at
 * least 60 s stale"). The claims read returns, beside each source, the grant's usage row
 * (claims.repo.ts joins it on the grant group's primary key); this decides which grants
 * that read touched need a write. A fresh grant costs nothing beyond that join.
 */

/** How stale `last_used_at` may get before a token rewrites it: the precision of "last use". */
export const USAGE_STALE_MS = 60_000;

export interface UsageSource {
  /** Absent when the read did not ask for usage (userinfo, introspection). */
  group_id?: string | null;
  /** Null or absent: the group is not a grant's (it has no usage row); 0: a grant never used; else its last use. */
  usage_last_used_at?: number | null;
  /** A scheduled grant's start: a token before it does not carry the grant, so it is no use. */
  membership_starts_at: number | null;
}

/** A grant's use is written when it was never used, or its last use is at least USAGE_STALE_MS old. */
export const isStale = (lastUsedAt: number | null, now: number): boolean => lastUsedAt === null || lastUsedAt <= now - USAGE_STALE_MS;

/**
 * The grants whose usage a token issued at `now` must record: grants among the sources,
 * active at `now` (started), whose last use is stale. Each grant once, in id order.
 */
export function staleGrants(sources: readonly UsageSource[], now: number): string[] {
  const out = new Set<string>();
  for (const source of sources) {
    if (source.usage_last_used_at == null || source.group_id == null) continue;
    if (source.membership_starts_at !== null && source.membership_starts_at > now) continue;
    if (isStale(source.usage_last_used_at === 0 ? null : source.usage_last_used_at, now)) out.add(source.group_id);
  }
  return [...out].sort();
}
