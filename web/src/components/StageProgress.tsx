import type { AccessRequest, StageInfo } from '../api/types.ts';
import { formatDuration } from '../lib/format.ts';
import { Time } from './Time.tsx';

function whoDecides(stage: StageInfo): string {
  const who = stage.open ? 'anyone but the requester' : stage.approver_groups.map((g) => g.name).join(', ');
  return stage.quorum > 1 ? `${stage.quorum} approvals from ${who}` : who;
}

/** Before submitting: who approves each stage, how many approvals it needs, and where it escalates. */
export function StagePlan({ stages }: { stages: StageInfo[] }) {
  return (
    <ol className="plain-list stage-plan" aria-label="Approval stages">
      {stages.map((s) => (
        <li key={s.position}>
          <strong>Stage {s.position}:</strong> {whoDecides(s)}
          {s.escalation_group && s.escalation_after_mins !== null && (
            <span className="muted">
              {' '}
              (escalates to {s.escalation_group.name} after {formatDuration(s.escalation_after_mins)})
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

/** After submitting: which stage the request is in, and who has approved in each. */
export function StageProgress({ request }: { request: AccessRequest }) {
  // One stage that one approval decides: the outcome line already says who approved.
  if (request.stage_count <= 1 && !request.stages.some((s) => s.quorum > 1)) return null;
  const waiting = request.status === 'pending' || request.status === 'provisioning';
  return (
    <section className="stage-progress" aria-label="Approval stages">
      <h3>
        Approval stages{waiting && request.stage_count > 1 ? `: stage ${request.current_stage} of ${request.stage_count}` : ''}
      </h3>
      <ol className="plain-list">
        {(request.stages.length ? request.stages : [{ position: 1, open: false, approver_groups: [], quorum: 1, escalation_after_mins: null, escalation_group: null }]).map((s) => {
          const approvals = request.approvals.filter((a) => a.stage === s.position);
          const state = s.position < request.current_stage || request.status === 'approved' ? 'done' : s.position === request.current_stage ? (waiting ? 'current' : 'ended') : 'waiting';
          return (
            <li key={s.position} data-stage={s.position} data-state={state} aria-current={state === 'current' ? 'step' : undefined}>
              <strong>Stage {s.position}</strong> ({approvals.length} of {s.quorum} approval{s.quorum === 1 ? '' : 's'}
              {state === 'current' ? ', waiting' : state === 'done' ? ', passed' : ''}): {whoDecides(s)}
              {approvals.length > 0 && (
                <ul className="plain-list small">
                  {approvals.map((a) => (
                    <li key={a.approver.id}>
                      Approved by {a.approver.name || a.approver.email} <Time iso={a.at} />
                      {a.comment ? `: “${a.comment}”` : ''}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
