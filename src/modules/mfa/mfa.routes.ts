import { z } from 'zod';
import { requireActor } from '../../http/auth.ts';
import { idParam, toIso, toIsoOrNull } from '../../http/schemas.ts';
import type { HttpApp } from '../../http/types.ts';
import type { MfaAdminService } from './admin.service.ts';
import type { EnrolmentService, FactorOut } from './enrolment.service.ts';
import {
  addTotpIn,
  addWebauthnIn,
  factorListOut,
  factorNameIn,
  factorOut,
  mfaPolicyIn,
  mfaPolicyOut,
  recoveryCodesLeftOut,
  recoveryCodesOut,
  stepUpQuery,
  totpStartOut,
} from './enrolment.types.ts';

const out = (f: FactorOut) => ({ ...f, created_at: toIso(f.created_at), last_used_at: toIsoOrNull(f.last_used_at) });
/** Enrolment stays open to a user the MFA policy holds back: it is how they get out. */
const enrolling = { allowPendingEnrolment: true } as const;
const webauthnOptions = z.record(z.string(), z.unknown());

/** A user's own second factors and recovery codes, and the admin's MFA policy and reset (docs/mfa.md). */
export function mfaRoutes(app: HttpApp, deps: { enrolment: EnrolmentService; admin: MfaAdminService }): void {
  const { enrolment, admin } = deps;
  const tags = ['mfa'];

  app.get('/api/v1/me/factors', { schema: { tags, summary: 'Your second factors (never their secrets)', response: { 200: factorListOut } } }, async (request) => ({
    items: (await enrolment.list(requireActor(request, enrolling))).map(out),
  }));

  app.post(
    '/api/v1/me/factors/webauthn/options',
    { schema: { tags, summary: 'Options for registering a passkey (navigator.credentials.create); the challenge works once, for 5 minutes', response: { 200: webauthnOptions } } },
    async (request) => (await enrolment.webauthnOptions(requireActor(request, enrolling))) as unknown as Record<string, unknown>,
  );

  app.post(
    '/api/v1/me/factors/webauthn',
    { schema: { tags, summary: 'Register a passkey with the response of startRegistration()', body: addWebauthnIn, response: { 201: factorOut } } },
    async (request, reply) => reply.status(201).send(out(await enrolment.addWebauthn(requireActor(request, enrolling), request.body))),
  );

  app.post(
    '/api/v1/me/factors/totp/start',
    { schema: { tags, summary: 'A new authenticator-app secret, kept unconfirmed for 10 minutes', response: { 200: totpStartOut } } },
    async (request) => {
      const started = await enrolment.totpStart(requireActor(request, enrolling));
      return { ...started, expires_at: toIso(started.expires_at) };
    },
  );

  app.post(
    '/api/v1/me/factors/totp',
    { schema: { tags, summary: 'Confirm the authenticator app with its first code; the code is spent', body: addTotpIn, response: { 201: factorOut } } },
    async (request, reply) => reply.status(201).send(out(await enrolment.totpConfirm(requireActor(request, enrolling), request.body))),
  );

  app.patch(
    '/api/v1/me/factors/:id',
    { schema: { tags, summary: 'Rename one of your factors', params: idParam, body: factorNameIn, response: { 200: factorOut } } },
    async (request) => out(await enrolment.rename(requireActor(request, enrolling), request.params.id, request.body.name)),
  );

  app.delete(
    '/api/v1/me/factors/:id',
    { schema: { tags, summary: 'Remove one of your factors. While you have another, needs a step-up (action factor_remove, target the factor id)', params: idParam, querystring: stepUpQuery } },
    async (request, reply) => {
      await enrolment.remove(requireActor(request, enrolling), request.params.id, request.query.step_up);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/v1/me/recovery-codes',
    { schema: { tags, summary: 'Ten new recovery codes, shown once; they replace any earlier ones. Needs a factor', response: { 201: recoveryCodesOut } } },
    async (request, reply) => reply.status(201).send({ codes: await enrolment.newRecoveryCodes(requireActor(request, enrolling)) }),
  );

  app.get('/api/v1/me/recovery-codes', { schema: { tags, summary: 'How many of your recovery codes are left', response: { 200: recoveryCodesLeftOut } } }, async (request) => ({
    remaining: await enrolment.recoveryCodesLeft(requireActor(request, enrolling)),
  }));

  app.get('/api/v1/settings/mfa-policy', { schema: { tags, summary: 'Who must have a second factor (admin)', response: { 200: mfaPolicyOut } } }, async (request) => ({
    policy: await admin.readPolicy(requireActor(request)),
  }));

  app.put(
    '/api/v1/settings/mfa-policy',
    { schema: { tags, summary: 'Set who must have a second factor (admin; a step-up mfa_policy when you have a factor). Users it covers without a factor can then only enrol', body: mfaPolicyIn, response: { 200: mfaPolicyOut } } },
    async (request) => ({ policy: await admin.updatePolicy(requireActor(request), request.body.policy, request.body.step_up) }),
  );

  app.delete(
    '/api/v1/users/:id/factors',
    {
      schema: {
        tags,
        summary: "Reset a user's second factors and recovery codes and end all their sessions and tokens (admin; a step-up mfa_reset for the user id when you have a factor)",
        params: idParam,
        querystring: stepUpQuery,
      },
    },
    async (request, reply) => {
      // What went is in the audit event (mfa.reset); DELETE answers 204 like every other.
      await admin.reset(requireActor(request), request.params.id, request.query.step_up);
      return reply.status(204).send();
    },
  );
}
