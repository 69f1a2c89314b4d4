import type { Executor } from '../../db/database.ts';
import { createGroupsRepo } from '../groups/groups.repo.ts';
import { namedStage, type Template } from '../templates/templates.types.ts';

type TemplateStage = Template['stages'][number];
import type { SnapshotStage } from './snapshot.ts';

/** The template's stages with their groups' names, frozen into the request at submission. */
export async function snapshotStages(db: Executor, stages: readonly TemplateStage[]): Promise<SnapshotStage[]> {
  const ids = [...new Set(stages.flatMap((s) => [...s.approver_group_ids, ...(s.escalation_group_id ? [s.escalation_group_id] : [])]))];
  const names = new Map((await createGroupsRepo(db).findAnyByIds(ids)).map((g) => [g.id, g.name]));
  const ref = (id: string) => ({ id, name: names.get(id) ?? '' });
  return stages.map((s, i) => namedStage(s, i, ref));
}
