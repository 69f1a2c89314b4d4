import { z } from 'zod';
import type { Executor } from '../../db/database.ts';
import { instant, toIsoOrNull } from '../../http/schemas.ts';
import { createMembershipsRepo } from '../groups/memberships.repo.ts';
import { mappingLinksOfAppQuery } from '../mappings/mappings.repo.ts';
import { isScheduled } from './activation.ts';
import { createRequestsRepo, type RequestRow } from './requests.repo.ts';
import type { RequestSnapshot } from './snapshot.ts';

const claimValue = z.union([z.string(), z.array(z.string()), z.boolean()]);

/**
 * What the requester already has for the request's application (issue 14 §3), for those who
 * decide: their grants there (active or scheduled, any template), their permanent memberships
 * of groups that the application's mappings turn into claims, and how many grants they hold
 * elsewhere.
 */
export const requesterAccessOut = z.object({
  app: z.object({ id: z.string(), name: z.string() }),
  grants: z.array(
    z.object({
      request_id: z.uuid(),
      template_id: z.uuid(),
      template_name: z.string(),
      /** The grant's window has not opened yet. */
      scheduled: z.boolean(),
      starts_at: instant.nullable(),
      expires_at: instant.nullable(),
      /** Whole seconds of access left (from now, or from the start for a scheduled one). */
      seconds_left: z.number().int().nullable(),
      grants: z.array(z.object({ claim: z.string(), value: claimValue })),
    }),
  ),
  /** Permanent (no end) memberships of groups that feed this application's claims. */
  standing: z.array(z.object({ group: z.object({ id: z.string(), name: z.string() }), claims: z.array(z.object({ claim: z.string(), value: claimValue })) })),
  /** The requester's active or scheduled grants for other applications. */
  other_active_grants: z.number().int(),
});
export type RequesterAccess = z.infer<typeof requesterAccessOut>;

/** Loads what the request's requester holds now; the caller checked the actor may decide. The request itself is left out. */
export async function loadRequesterAccess(db: Executor, request: RequestRow, now: number): Promise<RequesterAccess> {
  const app = (JSON.parse(request.snapshot) as RequestSnapshot).app;
  const [live, links, groups] = await Promise.all([
    createRequestsRepo(db).liveGrantsOf(request.requester_id),
    mappingLinksOfAppQuery(db, app.id).execute(),
    createMembershipsRepo(db).liveOrdinaryGroupsOf(request.requester_id, now),
  ]);
  const others = live.filter((r) => r.id !== request.id);
  const here = others.filter((r) => (JSON.parse(r.snapshot) as RequestSnapshot).app.id === app.id);
  const standing = groups
    .filter((g) => g.expires_at === null)
    .map((g) => ({
      group: { id: g.id, name: g.name },
      claims: links.filter((l) => l.group_id === g.id).map((l) => ({ claim: l.claim, value: JSON.parse(l.value_json) as z.infer<typeof claimValue> })),
    }))
    .filter((s) => s.claims.length > 0);
  return {
    app,
    grants: here.map((r) => {
      const snapshot = JSON.parse(r.snapshot) as RequestSnapshot;
      const scheduled = isScheduled(r, now);
      return {
        request_id: r.id,
        template_id: r.template_id,
        template_name: snapshot.template_name,
        scheduled,
        starts_at: toIsoOrNull(r.starts_at ?? r.activated_at),
        expires_at: toIsoOrNull(r.expires_at),
        seconds_left: r.expires_at === null ? null : Math.max(0, Math.floor((r.expires_at - Math.max(now, scheduled && r.starts_at !== null ? r.starts_at : now)) / 1000)),
        grants: snapshot.mappings.map((m) => ({ claim: m.claim, value: m.value })),
      };
    }),
    standing,
    other_active_grants: others.length - here.length,
  };
}
