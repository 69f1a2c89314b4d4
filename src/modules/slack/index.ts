// The Slack module's public surface: what the events module's fan-out reads (which events ask
// for a decision, which update the messages, and the reservation of a message in the event's
// transaction), and what the composition root wires (service, client, handler, performer, routes).
export { askedStage, OUTCOME_EVENTS } from './blocks.ts';
export { createSlackRepo } from './slack.repo.ts';
export { createSlackService, type SlackService } from './slack.service.ts';
export { createSlackClient, type SlackClient } from './slack-client.ts';
export { createInteractionHandler, type InteractionHandler } from './interactions.ts';
export { createSlackAppPerformer } from './performer.ts';
export { slackRoutes } from './slack.routes.ts';
export type { CreateDecisionLink, NeedsStepUp, SlackDecisions } from './slack.types.ts';
