// The events module's public surface for the modules that record events (requests): the
// outbox row, the fan-out (a pure plan, then the writer of the events module's part) and the
// flat config a trigger task reads; and what others read of the outbox (the live stream's page,
// the delivery pages' event types). Types: events.types.ts.
export { eventTypesQuery, insertOutboxEvents, outboxEventsOfRequests, insertSignalEvents, outboxPageAfter } from './outbox.ts';
export { planFanout, type Audience, type FanoutPlan, type MatchingAction } from './fanout-plan.ts';
export { writeFanouts, type FanoutDeps } from './fanout.ts';
export { scriptConfigFromPayload } from './script-config.ts';
