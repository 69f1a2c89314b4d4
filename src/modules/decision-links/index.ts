export { createDecisionLinks, DECISION_LINK_TTL_MS, type DecisionLinkInput, type DecisionLinks } from './decision-links.service.ts';
export { decisionLinksRoutes } from './decision-links.routes.ts';
