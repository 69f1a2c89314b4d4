import type { ExpressionBuilder } from 'kysely';
import type { Executor } from '../../db/database.ts';
import type { DB } from '../../db/schema.ts';
import { laterStagesQuery, stageApproverLinksQuery } from '../templates/templates.repo.ts';

/**
 * For the inbox: a request `r` waiting in stage 2..n may be decided by someone in
 * `groups` when that stage is open (the template has it and it names no groups), names
 * one of the groups, or has escalated to one of them.
 */
export function laterStageDecidable(db: Executor, eb: ExpressionBuilder<DB & { r: DB['access_requests'] }, 'r'>, groups: readonly string[]) {
  const stageOf = () => laterStagesQuery(db).where('template_id', '=', eb.ref('r.template_id')).where('position', '=', eb.ref('r.current_stage'));
  const linksOf = () => stageApproverLinksQuery(db).where('template_id', '=', eb.ref('r.template_id')).where('position', '=', eb.ref('r.current_stage'));
  return eb.or([
    eb.and([eb.exists(stageOf()), eb.not(eb.exists(linksOf()))]),
    eb.exists(linksOf().where('group_id', 'in', [...groups])),
    eb.and([eb('r.escalated', '=', 1), eb.exists(stageOf().where('escalation_group_id', 'in', [...groups]))]),
  ]);
}
