import { expect } from 'vitest';
import { totpOf } from '../../src/modules/mfa/index.ts';
import type { ApiClient } from './api-client.ts';
import { createSoftAuthenticator, type SoftAuthenticatorOptions } from './soft-authenticator.ts';
import type { TestServer } from './server.ts';

/** A TOTP generator at the server's clock, for a secret enrolment returned. */
export const totpCodes = (server: TestServer, secret: string) => {
  const totp = totpOf(secret);
  return (stepOffset = 0) => totp.generate({ timestamp: server.app.core.clock.now() + stepOffset * 30_000 });
};

/** Enrols a passkey through the API with a software authenticator; returns the authenticator and the factor. */
export async function enrolPasskey(server: TestServer, client: ApiClient, name = 'Laptop', opts: Partial<SoftAuthenticatorOptions> = {}) {
  const authenticator = createSoftAuthenticator({ origin: server.url, ...opts });
  const options = await client.post('/api/v1/me/factors/webauthn/options');
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  const added = await client.post('/api/v1/me/factors/webauthn', { name, response: authenticator.register(options.body) });
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  return { authenticator, factor: added.body as { id: string; passwordless: boolean } };
}

/** Enrols an authenticator app through the API; returns its codes. */
export async function enrolTotpViaApi(server: TestServer, client: ApiClient, name = 'Phone') {
  const started = await client.post('/api/v1/me/factors/totp/start');
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const code = totpCodes(server, started.body.secret);
  const added = await client.post('/api/v1/me/factors/totp', { name, code: code() });
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  return { code, factorId: added.body.id as string, secret: started.body.secret as string };
}

/** A verified step-up proof for one act, passed with a TOTP code (`code()` of an enrolled app, a step not yet used). */
export async function stepUpProof(client: ApiClient, action: string, target: string, code: string): Promise<string> {
  const started = await client.post('/api/v1/step-up', { action, target });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const verified = await client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: code });
  expect(verified.status, JSON.stringify(verified.body)).toBe(200);
  return started.body.id;
}

/** The audit events of one action, newest first, straight from the table (the test reads; it never writes). */
export async function auditOf(server: TestServer, action: string) {
  const rows = await server.app.core.db.selectFrom('audit_events').select(['action', 'target_id', 'data', 'actor_id']).where('action', '=', action).orderBy('seq', 'desc').execute();
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
}

/** Settles many requests fired at once into their statuses, sorted. */
export const statusesOf = async (requests: Promise<{ status: number }>[]) => (await Promise.all(requests)).map((r) => r.status).sort();
