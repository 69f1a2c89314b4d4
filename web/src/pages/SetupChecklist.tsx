import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { Page } from '../api/types.ts';
import type { Application } from '../api/admin-types.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';

type StepKey = 'group' | 'application' | 'mapping' | 'template' | 'users';
interface Checklist {
  steps: { key: StepKey; title: string; done: boolean }[];
  done: boolean;
}

/** What each step asks for, and where its form is (the pages open their "Add …" form for `?new=`). */
const STEPS: Record<StepKey, { why: string; to: (appId: string | undefined) => string }> = {
  group: { why: 'Groups say who may request access and who approves it.', to: () => '/admin/groups?new=group' },
  application: { why: 'The application people get temporary access to, signing in with Interim.', to: () => '/admin/applications?new=application' },
  mapping: { why: 'The claim the application receives, such as role = admin.', to: (appId) => (appId ? `/admin/applications/${appId}?new=mapping` : '/admin/applications') },
  template: { why: 'What people can request, for how long, and who approves.', to: () => '/admin/templates/new' },
  users: { why: 'Add the people who will request and approve access.', to: () => '/admin/users?new=user' },
};

const dismissKey = (userId: string) => `interim.setup-checklist.dismissed.${userId}`;

/**
 * The first-admin checklist on the home page: each step links to its form and shows whether
 * it is done; it is gone once all are done, or when the admin dismisses it (in this browser).
 */
export function SetupChecklist() {
  const { user } = useSession();
  const [dismissed, setDismissed] = useState(() => window.localStorage.getItem(dismissKey(user.id)) === '1');
  const checklist = useQuery({
    queryKey: keys.admin('setup-checklist'),
    queryFn: () => get<Checklist>('/setup-checklist'),
    enabled: user.is_admin && !dismissed,
    refetchOnMount: 'always',
  });
  const needsApp = checklist.data?.steps.some((s) => s.key === 'application' && s.done) && checklist.data.steps.some((s) => s.key === 'mapping' && !s.done);
  // The mapping step links to the application's own page, where its mappings are added.
  const firstApp = useQuery({ queryKey: keys.admin('applications', 'first'), queryFn: () => get<Page<Application>>('/applications', { limit: 1 }), enabled: !!needsApp });
  if (!user.is_admin || dismissed || !checklist.data || checklist.data.done) return null;
  const { steps } = checklist.data;
  const left = steps.filter((s) => !s.done).length;
  return (
    <section className="panel setup-checklist" aria-labelledby="setup-checklist-title">
      <div className="setup-checklist-head">
        <h2 id="setup-checklist-title">Set up Interim</h2>
        <button
          type="button"
          className="btn btn-small btn-ghost"
          onClick={() => {
            window.localStorage.setItem(dismissKey(user.id), '1');
            setDismissed(true);
          }}
        >
          Dismiss<span className="visually-hidden"> the setup checklist</span>
        </button>
      </div>
      <p className="muted small">
        {left} of {steps.length} steps left before people can request access.
      </p>
      <ol className="setup-steps">
        {steps.map((step) => (
          <li key={step.key} className={`setup-step${step.done ? ' setup-step-done' : ''}`}>
            <span className="setup-step-mark" aria-hidden="true">
              {step.done ? '✓' : ''}
            </span>
            <span>
              {step.done ? (
                <span className="setup-step-title">{step.title}</span>
              ) : (
                <Link to={STEPS[step.key].to(firstApp.data?.items[0]?.id)}>{step.title}</Link>
              )}
              <span className="visually-hidden">{step.done ? ' (done)' : ' (not done)'}</span>
              <span className="muted small"> — {STEPS[step.key].why}</span>
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
