import { z } from 'zod';
import { instant } from '../../http/schemas.ts';
import { namedStageOut } from '../templates/templates.types.ts';
import type { RequestRow } from './requests.repo.ts';
import type { RequestSnapshot } from './snapshot.ts';
import type { VoteRow } from './votes.repo.ts';

const personOut = z.object({ id: z.string(), email: z.string(), name: z.string() });

/** The stage fields of a request as the API shows them (issue 12 §1): where it is and who approved. */
export const stageProgressOut = {
  current_stage: z.number().int().describe('the approval stage the request waits in (1-based); for a decided request, the stage it was decided in'),
  stage_count: z.number().int().describe('how many approval stages the request goes through'),
  stages: z.array(namedStageOut).describe('the stages as they were when the request was made (empty for requests made before stages existed)'),
  approvals: z.array(z.object({ stage: z.number().int(), approver: personOut, comment: z.string().nullable(), at: instant })).describe('every approval that counts, by stage then time'),
};

type Person = z.infer<typeof personOut>;

export function stageProgress(r: RequestRow, snapshot: RequestSnapshot, votes: readonly VoteRow[], person: (id: string) => Person) {
  const stages = snapshot.stages ?? [];
  return {
    current_stage: r.current_stage,
    stage_count: Math.max(1, stages.length),
    stages,
    approvals: votes.map((v) => ({ stage: v.stage, approver: person(v.approver_id), comment: v.comment, at: new Date(v.created_at).toISOString() })),
  };
}
