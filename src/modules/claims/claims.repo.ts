import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';
import { sourceExpiry, type ClaimSource, type EffectiveClaims } from './claims.ts';
import { mergeWindowedClaims } from './windows.ts';
import { liveMembershipsOfQuery, liveMembershipsOfUsersQuery } from '../groups/memberships.repo.ts';
import { mappingLinksOfAppQuery } from '../mappings/mappings.repo.ts';

/**
 * The mappings of one application that reach one user, through groups and memberships
 * that are live at `at`. One query, built from its owners' fragments (the mappings module's
 * links of the application, the groups module's live memberships of the user), which both
 * databases flatten into one join, every join on an index: mappings by app_id,
 * mapping_groups by its primary key, groups by id and memberships by (group_id, user_id).
 * It never walks the groups table.
 */
export function claimSourcesQuery(db: Executor, userId: string, appId: string, at: number) {
  return db
    .selectFrom(mappingLinksOfAppQuery(db, appId).as('m'))
    .innerJoin(liveMembershipsOfQuery(db, userId, at).as('l'), 'l.group_id', 'm.group_id')
    .select(['m.claim', 'm.value_json', 'l.group_expires_at', 'l.membership_expires_at', 'l.membership_starts_at']);
}

/**
 * claimSourcesQuery as the token endpoint runs it: each source also says its group and, when
 * the group is a grant's, the grant's last use (a scalar subquery on grant_usage's primary key;
 * on PostgreSQL it cost a fifth of what a left join cost to plan), so the token path knows
 * without another read whether the token it issues must record a use (usage.ts). userinfo
 * and introspection record nothing, so they run claimSourcesQuery.
 */
export function claimSourcesWithUsageQuery(db: Executor, userId: string, appId: string, at: number) {
  return claimSourcesQuery(db, userId, appId, at)
    .select('l.group_id')
    .select((eb) =>
      eb
        .selectFrom('grant_usage as gu')
        .select(sql<number>`coalesce(gu.last_used_at, 0)`.as('u'))
        .whereRef('gu.group_id', '=', 'l.group_id')
        .as('usage_last_used_at'),
    );
}

export interface ClaimSourceRow {
  claim: string;
  value_json: string;
  group_expires_at: number | null;
  membership_expires_at: number | null;
  /** A scheduled grant's start: the row is returned before it, and counts only from it (windows.ts). */
  membership_starts_at: number | null;
}

export async function loadClaimSources(db: Executor, userId: string, appId: string, at: number): Promise<ClaimSource[]> {
  return toClaimSources(await claimSourcesQuery(db, userId, appId, at).execute());
}

/** The rows of claimSourcesQuery as sources, for callers that run the query prepared. */
export function toClaimSources(rows: readonly ClaimSourceRow[]): ClaimSource[] {
  const sources: ClaimSource[] = [];
  for (const row of rows) {
    let value: unknown;
    try {
      value = JSON.parse(row.value_json);
    } catch {
      continue; // a malformed row grants nothing rather than failing every token of the app
    }
    sources.push({ claim: row.claim, value, expiresAt: sourceExpiry(row.group_expires_at, row.membership_expires_at), startsAt: row.membership_starts_at });
  }
  return sources;
}

/**
 * The one decision point for access (DESIGN rule 1): the claims user `userId` has in
 * application `appId` at instant `at` (epoch ms), and when the earliest temporary value
 * among them ends.
 */
export async function effectiveClaims(db: Executor, userId: string, appId: string, at: number): Promise<EffectiveClaims> {
  return mergeWindowedClaims(await loadClaimSources(db, userId, appId, at), at);
}

/** Users per query in effectiveClaimsOfUsers: well under either database's bound-parameter limit. */
const USERS_PER_QUERY = 500;

/**
 * effectiveClaims for many users of one application at `at`, one query per 500 users
 * rather than one per user: what a batch of signals (an expiry chunk) or a change to a
 * large group reads. Every user asked is in the answer (`{}` claims when none).
 */
export async function effectiveClaimsOfUsers(db: Executor, userIds: readonly string[], appId: string, at: number): Promise<Map<string, EffectiveClaims>> {
  const users = [...new Set(userIds)];
  const out = new Map<string, EffectiveClaims>();
  for (let i = 0; i < users.length; i += USERS_PER_QUERY) {
    const chunk = users.slice(i, i + USERS_PER_QUERY);
    // From the users' memberships to the links (SQLite keeps a CROSS JOIN's order): the other way
    // round probes every link of the application, one per live grant of it.
    const rows = await db
      .selectFrom(liveMembershipsOfUsersQuery(db, chunk, at).as('l'))
      .crossJoin(mappingLinksOfAppQuery(db, appId).as('m'))
      .whereRef('m.group_id', '=', 'l.group_id')
      .select(['l.user_id', 'm.claim', 'm.value_json', 'l.group_expires_at', 'l.membership_expires_at', 'l.membership_starts_at'])
      .execute();
    const byUser = new Map<string, ClaimSourceRow[]>();
    for (const row of rows) {
      const seen = byUser.get(row.user_id);
      if (seen) seen.push(row);
      else byUser.set(row.user_id, [row]);
    }
    for (const userId of chunk) out.set(userId, mergeWindowedClaims(toClaimSources(byUser.get(userId) ?? []), at));
  }
  return out;
}
