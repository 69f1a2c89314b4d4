import type { Clock } from '../../clock.ts';
import type { Db } from '../../db/database.ts';
import type { Actor } from '../../http/actor.ts';
import { assertThat, forbidden, invalidField } from '../../http/errors.ts';
import { toIso, toIsoOrNull } from '../../http/schemas.ts';
import { createGrantUsageRepo } from '../claims/usage.repo.ts';
import { USAGE_STALE_MS } from '../claims/index.ts';
import { permanentMembersOf } from '../groups/permanent-members.repo.ts';
import { mappingsWithLinks } from '../mappings/mapping-links.repo.ts';
import { requestHistory } from '../requests/history.repo.ts';
import { templateGrants } from '../templates/template-grants.repo.ts';
import { createUsersRepo } from '../users/users.repo.ts';
import { approverFigures, byTemplate, grantFigures, RUBBER_STAMP_SECS, summarise, type GrantFigures, type RequestFact } from './figures.ts';
import { standingAccess } from './standing.ts';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, type Insights, type InsightsQuery } from './insights.types.ts';

const DAY = 86_400_000;

/** The range asked for, with its defaults (the last 30 days); 400 naming the field when it is backwards or too long. */
export function resolveRange(query: InsightsQuery, now: number): { from: number; to: number } {
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - DEFAULT_RANGE_DAYS * DAY;
  if (from >= to) throw invalidField(query.to ? 'querystring.to' : 'querystring.from', 'must be after from');
  if (to - from > MAX_RANGE_DAYS * DAY) throw invalidField('querystring.from', `the range may span at most ${MAX_RANGE_DAYS} days`);
  return { from, to };
}

/**
 * Insights (issue 14 §6, docs/insights.md): reads the facts from their owners' repos and
 * computes the figures with the pure rules of figures.ts and standing.ts. Admins only.
 */
export function createInsightsService(core: { db: Db; clock: Clock }) {
  return {
    async compute(actor: Actor, query: InsightsQuery): Promise<Insights> {
      assertThat(actor.isAdmin, forbidden());
      const { from, to } = resolveRange(query, core.clock.now());
      const db = core.db;
      const templates = await templateGrants(db);
      const { requests, votes } = await requestHistory(db, { from, to, templateId: query.template_id });
      const usage = new Map((await createGrantUsageRepo(db).ofRequests(requests.map((r) => r.id))).map((u) => [u.request_id, u]));
      const facts: RequestFact[] = requests.map((r) => ({
        ...r,
        escalated: r.escalated === 1,
        break_glass: r.break_glass === 1,
        first_used_at: usage.get(r.id)?.first_used_at ?? null,
        last_used_at: usage.get(r.id)?.last_used_at ?? null,
      }));

      const shown = templates.filter((t) => (query.template_id ? t.id === query.template_id : !t.deleted));
      const { mappings, links } = await mappingsWithLinks(db, [...new Set(shown.map((t) => t.app_id))]);
      const members = await permanentMembersOf(db, [...new Set(links.map((l) => l.group_id))]);
      const standing = standingAccess(
        shown.map((t) => ({ template_id: t.id, app_id: t.app_id, mapping_ids: t.mapping_ids })),
        mappings,
        links,
        members,
      );

      const grants = facts.map(grantFigures).filter((g): g is GrantFigures => g !== null);
      const approvers = approverFigures(facts, votes);
      const personIds = [...new Set([...grants.map((g) => g.requester_id), ...approvers.map((a) => a.approver_id)])];
      const people = new Map((personIds.length ? await createUsersRepo(db).peopleOf(personIds) : []).map((p) => [p.id, p]));
      const templateName = new Map(templates.map((t) => [t.id, t.name]));
      const groupName = new Map(members.map((m) => [m.group_id, m.group_name]));
      const memberEmail = new Map(members.map((m) => [m.user_id, m.email]));
      const nameOf = (id: string) => templateName.get(id) ?? id;

      return {
        from: toIso(from),
        to: toIso(to),
        template_id: query.template_id ?? null,
        rubber_stamp_secs: RUBBER_STAMP_SECS,
        usage_precision_secs: USAGE_STALE_MS / 1000,
        overall: summarise(facts),
        templates: byTemplate(facts, shown.map((t) => t.id)).map((t) => ({ ...t, template_name: nameOf(t.template_id) })),
        grants: grants.map((g) => ({
          ...g,
          template_name: nameOf(g.template_id),
          requester_email: people.get(g.requester_id)?.email ?? null,
          activated_at: toIso(g.activated_at),
          ends_at: toIsoOrNull(g.ends_at),
          first_used_at: toIsoOrNull(g.first_used_at),
          last_used_at: toIsoOrNull(g.last_used_at),
        })),
        approvers: approvers.map((a) => ({ ...a, email: people.get(a.approver_id)?.email ?? null, name: people.get(a.approver_id)?.name ?? null })),
        standing: standing.map((s) => ({ ...s, template_name: nameOf(s.template_id), group_name: groupName.get(s.group_id) ?? s.group_id, user_email: memberEmail.get(s.user_id) ?? s.user_id })),
      };
    },
  };
}

export type InsightsService = ReturnType<typeof createInsightsService>;
