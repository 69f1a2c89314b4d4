import { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import { toIso } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { FactorProof } from '../mfa/index.ts';
import type { StepUpService } from './step-up.service.ts';
import { stepUpBindingIn, stepUpStartOut, stepUpVerifyIn, stepUpVerifyOut } from './step-up.types.ts';

export function stepUpRoutes(app: HttpApp, deps: { stepUp: StepUpService }): void {
  const tags = ['step-up'];
  app.post(
    '/api/v1/step-up',
    {
      schema: {
        tags,
        summary: 'Start a fresh second-factor check for one exact act (action, target, stage). Verify it, then send its id with the act',
        body: stepUpBindingIn,
        response: { 201: stepUpStartOut },
      },
    },
    async (request, reply) => {
      const started = await deps.stepUp.start(requireActor(request), request.body);
      return reply.status(201).send({ ...started, webauthn: started.webauthn as unknown as Record<string, unknown> | null, expires_at: toIso(started.expires_at) });
    },
  );

  app.post(
    '/api/v1/step-up/:id/verify',
    {
      schema: {
        tags,
        summary: 'Pass the check with a passkey assertion, an authenticator code or a recovery code. 403 step_up_failed when it does not pass (five failures end it)',
        params: z.strictObject({ id: z.string().max(64) }),
        body: stepUpVerifyIn,
        response: { 200: stepUpVerifyOut },
      },
    },
    async (request) => {
      const verified = await deps.stepUp.verify(requireActor(request), request.params.id, request.body as FactorProof);
      return { ...verified, verified_at: toIso(verified.verified_at) };
    },
  );
}
