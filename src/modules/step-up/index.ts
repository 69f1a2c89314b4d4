export { createStepUpService, bindingHashOf, listHashOf, STEP_UP_MAX_AGE_MS, type StepUpService } from './step-up.service.ts';
export { stepUpRoutes } from './step-up.routes.ts';
export { STEP_UP_ACTIONS, type StepUpAction, type StepUpBinding, type StepUpGuard, type StepUpUse } from './step-up.types.ts';
