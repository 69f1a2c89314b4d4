import { requireActor } from '../../http/auth.ts';
import type { HttpApp } from '../../http/types.ts';
import { bulkDecisionIn, bulkDecisionOut, bulkRevokeIn, bulkRevokeOut, decisionPlan, MAX_BULK_ITEMS, revokePlan, runBulkDecision, runBulkRevoke } from './bulk.ts';
import type { RequestsService } from './requests.service.ts';

/** POST …/bulk-decisions and …/bulk-revoke: many single calls in one, each answered on its own (requests/bulk.ts). */
export function bulkRoutes(app: HttpApp, base: string, requests: RequestsService): void {
  const tags = ['access requests'];

  app.post(
    `${base}/bulk-decisions`,
    {
      schema: {
        tags,
        summary: `Approve or deny up to ${MAX_BULK_ITEMS} pending requests at once, each exactly as a single decision would (eligibility, stages and quorum, never your own); a request whose template does not allow bulk decisions is refused (bulk_not_allowed). Answers per request, in order. When a listed template asks for step-up, one proof (action bulk_decision, target the list hash) covers the list; without it the whole call is refused (403 step_up_required)`,
        body: bulkDecisionIn,
        response: { 200: bulkDecisionOut },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const plan = decisionPlan(request.body);
      const stepUp = await requests.spendBulkStepUp(actor, 'bulk_decision', plan.requestIds, request.body.step_up);
      return runBulkDecision(requests, actor, plan, stepUp, (error) => request.log.error({ err: error }, 'bulk decision item failed unexpectedly'));
    },
  );

  app.post(
    `${base}/bulk-revoke`,
    {
      schema: {
        tags,
        summary: `End up to ${MAX_BULK_ITEMS} approved grants early with one reason, each exactly as a single revocation would (admin, approver-group member or the requester; signals and sign-out follow). Answers per request, in order`,
        body: bulkRevokeIn,
        response: { 200: bulkRevokeOut },
      },
    },
    async (request) => {
      const actor = requireActor(request);
      const plan = revokePlan(request.body);
      const stepUp = await requests.spendBulkStepUp(actor, 'bulk_revoke', plan.requestIds, request.body.step_up);
      return runBulkRevoke(requests, actor, plan, stepUp, (error) => request.log.error({ err: error }, 'bulk revoke item failed unexpectedly'));
    },
  );
}
