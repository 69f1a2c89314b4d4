// The templates module's public surface beyond its service, repo and types: checking a
// request's answers against the template's custom fields.
export { validateFieldAnswers } from './custom-fields.ts';
export { allowsScheduledStart } from './template-schedule.ts';
