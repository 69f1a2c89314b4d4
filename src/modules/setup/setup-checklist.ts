/**
 * The first-admin checklist: what a fresh installation needs before anyone can request
 * access. Pure: the service reads the facts through each owner's repo.
 */
export const SETUP_STEPS = ['group', 'application', 'mapping', 'template', 'users'] as const;
export type SetupStep = (typeof SETUP_STEPS)[number];

export interface SetupFacts {
  hasGroup: boolean;
  hasApplication: boolean;
  hasMapping: boolean;
  hasTemplate: boolean;
  /** Users not deleted, the first admin included. */
  userCount: number;
}

export interface ChecklistStep {
  key: SetupStep;
  title: string;
  done: boolean;
}

const TITLES: Record<SetupStep, string> = {
  group: 'Create a group',
  application: 'Register an application',
  mapping: 'Add a mapping to the application',
  template: 'Create a template people can request',
  users: 'Invite users',
};

/** The steps in the order a new admin takes them; `done` once each exists (someone besides the first admin, for users). */
export function checklistOf(facts: SetupFacts): { steps: ChecklistStep[]; done: boolean } {
  const doneBy: Record<SetupStep, boolean> = {
    group: facts.hasGroup,
    application: facts.hasApplication,
    mapping: facts.hasMapping,
    template: facts.hasTemplate,
    users: facts.userCount >= 2,
  };
  const steps = SETUP_STEPS.map((key) => ({ key, title: TITLES[key], done: doneBy[key] }));
  return { steps, done: steps.every((s) => s.done) };
}
