import { useRequestable } from '../api/queries.ts';
import type { Requestable } from '../api/types.ts';
import { PageHeader } from '../components/Layout.tsx';
import { Empty, QueryView } from '../components/Status.tsx';
import { formatDuration } from '../lib/format.ts';
import { Link } from '../router.tsx';
import { LapseGlassFacts } from '../components/BreakGlass.tsx';
import { StagePlan } from '../components/StageProgress.tsx';
import { MyAccessNotice } from '../components/MyAccessNotice.tsx';
import { SetupChecklist } from './SetupChecklist.tsx';

function whoApproves(t: Requestable): string {
  if (t.auto_approve) return 'Approved automatically';
  if (t.stages.length > 1) return `${t.stages.length} stages, in order`;
  if (t.open) return 'Anyone but you may approve';
  return t.approver_groups.map((g) => g.name).join(', ');
}

function TemplateCard({ template }: { template: Requestable }) {
  const headingId = `template-${template.id}`;
  return (
    <li className="card template-card" aria-labelledby={headingId}>
      <div className="card-body">
        <p className="eyebrow">{template.app.name}</p>
        <h2 id={headingId}>{template.name}</h2>
        {template.description && <p className="prewrap">{template.description}</p>}
        <dl className="facts facts-compact">
          <div>
            <dt>Approvers</dt>
            <dd>{whoApproves(template)}</dd>
          </div>
          <div>
            <dt>Durations</dt>
            <dd>
              <ul className="chips">
                {template.allowed_durations.map((d) => (
                  <li key={d} className="chip">
                    {formatDuration(d)}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
          {template.stages.length > 1 && (
            <div>
              <dt>Stages</dt>
              <dd>
                <StagePlan stages={template.stages} />
              </dd>
            </div>
          )}
          {template.stages.length <= 1 && template.escalation_group && template.escalation_after_mins !== null && (
            <div>
              <dt>Escalates</dt>
              <dd>
                to {template.escalation_group.name} after {formatDuration(template.escalation_after_mins)}
              </dd>
            </div>
          )}
          <LapseGlassFacts template={template} />
        </dl>
      </div>
      <div className="card-actions">
        {template.mine ? (
          <MyAccessNotice mine={template.mine} templateName={template.name} />
        ) : (
          <Link to={`/request/${template.id}`} className="btn btn-primary">
            Request access<span className="visually-hidden">: {template.name}</span>
          </Link>
        )}
      </div>
    </li>
  );
}

/** The templates the signed-in user may request. */
export function CataloguePage() {
  const templates = useRequestable();
  return (
    <>
      <PageHeader title="Request access" lead="Pick what you need. Access is temporary: it ends on its own when the time you chose is up." />
      <SetupChecklist />
      <QueryView
        query={templates}
        loading="Loading what you can request…"
        isEmpty={(list) => list.length === 0}
        empty={<Empty title="Nothing to request yet">An administrator has not offered any access you may request. Ask them to add a template.</Empty>}
      >
        {(list) => (
          <ul className="card-grid" aria-label="Access you can request">
            {list.map((t) => (
              <TemplateCard key={t.id} template={t} />
            ))}
          </ul>
        )}
      </QueryView>
    </>
  );
}
