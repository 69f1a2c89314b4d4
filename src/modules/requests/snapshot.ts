import type { Executor } from '../../db/database.ts';
import { createApplicationsRepo } from '../applications/applications.repo.ts';
import { createMappingsRepo } from '../mappings/mappings.repo.ts';
import { snapshotStages } from './stage-snapshot.ts';
import type { NamedStage, Template } from '../templates/templates.types.ts';

type TemplateStage = Template['stages'][number];

export type ClaimValue = string | string[] | boolean;

/** What a request would grant, frozen at submission so approval grants exactly what the approver saw. */
export interface RequestSnapshot {
  app: { id: string; name: string };
  template_name: string;
  mappings: { mapping_id: string; claim: string; value: ClaimValue }[];
  /** The custom fields' labels as the requester saw them (absent on requests made before it existed). */
  field_labels?: Record<string, string>;
  /** The approval stages as the requester saw them (absent on requests made before stages existed). */
  stages?: SnapshotStage[];
}

/** A stage as frozen into the request: the template's, with its groups named then. */
export type SnapshotStage = NamedStage;

export async function takeSnapshot(
  db: Executor,
  template: { name: string; app_id: string; mapping_ids: readonly string[]; custom_fields: readonly { key: string; label: string }[]; stages?: readonly TemplateStage[] },
): Promise<RequestSnapshot | undefined> {
  const app = await createApplicationsRepo(db).findLiveName(template.app_id);
  if (!app) return undefined;
  const mappings = await currentMappings(db, template.mapping_ids);
  const stages = template.stages ? await snapshotStages(db, template.stages) : undefined;
  return { app, template_name: template.name, mappings, field_labels: Object.fromEntries(template.custom_fields.map((f) => [f.key, f.label])), stages };
}

async function currentMappings(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const rows = await createMappingsRepo(db).claimValues(ids);
  return rows.map((r) => ({ mapping_id: r.id, claim: r.claim, value: JSON.parse(r.value_json) as ClaimValue }));
}

/** True when every mapping in the snapshot still exists with the same claim and value. */
export async function snapshotStillHolds(db: Executor, snapshot: RequestSnapshot): Promise<boolean> {
  const now = await currentMappings(db, snapshot.mappings.map((m) => m.mapping_id));
  return JSON.stringify(now) === JSON.stringify([...snapshot.mappings].sort((a, b) => (a.mapping_id < b.mapping_id ? -1 : 1)));
}
