import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recoveryCodeHash } from '../src/modules/mfa/index.ts';
import { newRecoveryCode } from '../src/modules/mfa/recovery-codes.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { auditOf, enrolPasskey, enrolTotpViaApi, statusesOf, stepUpProof, totpCodes } from './helpers/mfa-api.ts';
import { createSoftAuthenticator } from './helpers/soft-authenticator.ts';

describe('recovery codes', () => {
  it('are 12 symbols without look-alikes (60 bits), grouped by four, and match however they are typed', () => {
    const codes = Array.from({ length: 2000 }, newRecoveryCode);
    for (const code of codes) expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(new Set(codes).size).toBe(codes.length);
    // Every symbol of the alphabet turns up: the draw is not biased away from any.
    expect(new Set(codes.join('').replaceAll('-', '')).size).toBe(32);
    const code = codes[0]!;
    for (const typed of [code, code.toLowerCase(), code.replaceAll('-', ''), code.replaceAll('-', ' '), ` ${code} `]) expect(recoveryCodeHash(typed)).toBe(recoveryCodeHash(code));
    expect(recoveryCodeHash(codes[1]!)).not.toBe(recoveryCodeHash(code));
  });
});

describeEachDialect('enrolling second factors', (server) => {
  // Each test a few minutes later than the last: TOTP steps and challenges never overlap.
  let minutes = 0;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + ++minutes * 10 * 60_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const person = (label: string): Promise<Person> => createPerson(server(), label);

  it('registers a passkey from registration options, once per challenge, and lists it without secrets', async () => {
    const p = await person('passkey');
    const options = await p.client.post('/api/v1/me/factors/webauthn/options');
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({
      rp: { id: new URL(server().url).hostname, name: 'Interim' },
      user: { name: p.email },
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      excludeCredentials: [],
    });
    const authenticator = createSoftAuthenticator({ origin: server().url });
    const response = authenticator.register(options.body);
    const added = await p.client.post('/api/v1/me/factors/webauthn', { name: 'Laptop', response });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ kind: 'webauthn', name: 'Laptop', passwordless: true, last_used_at: null });

    // The challenge worked once.
    const replay = await p.client.post('/api/v1/me/factors/webauthn', { name: 'Again', response });
    expect(replay.status).toBe(409);
    expect(replay.body.code).toBe('challenge_expired');

    const listed = await p.client.get('/api/v1/me/factors');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([{ id: added.body.id, kind: 'webauthn', name: 'Laptop', created_at: expect.any(String), last_used_at: null, passwordless: true }]);
    const stored = await server().app.core.db.selectFrom('mfa_factors').selectAll().where('id', '=', added.body.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ credential_id: response.id, transports: '["internal"]', passwordless: 1 });
    expect(Buffer.from(stored.public_key!, 'base64url').length).toBeGreaterThan(60);

    // The next registration excludes the passkey already there.
    const next = await p.client.post('/api/v1/me/factors/webauthn/options');
    expect(next.body.excludeCredentials).toEqual([{ id: response.id, type: 'public-key', transports: ['internal'] }]);
    const [event] = await auditOf(server(), 'mfa.factor_added');
    expect(event).toMatchObject({ actor_id: p.id, target_id: p.id, data: { kind: 'webauthn', factor_id: added.body.id, factors: 1 } });
  });

  it('marks a passkey passwordless only when it is discoverable and verifies the user', async () => {
    const p = await person('not-passwordless');
    const { factor: noUv } = await enrolPasskey(server(), p.client, 'Key without PIN', { userVerification: false });
    expect(noUv.passwordless).toBe(false);
    const { factor: notResident } = await enrolPasskey(server(), p.client, 'Key without storage', { residentKey: false });
    expect(notResident.passwordless).toBe(false);
  });

  it('refuses a registration for another origin, an expired challenge, and bad input naming the field', async () => {
    const p = await person('bad-passkey');
    const authenticator = createSoftAuthenticator({ origin: server().url });
    const options = await p.client.post('/api/v1/me/factors/webauthn/options');
    const phished = await p.client.post('/api/v1/me/factors/webauthn', { name: 'Phished', response: authenticator.register(options.body, { origin: 'https://evil.example' }) });
    expect(phished.status).toBe(400);
    expect(phished.body.errors[0].field).toBe('response');

    const stale = await p.client.post('/api/v1/me/factors/webauthn/options');
    vi.setSystemTime(Date.now() + 6 * 60_000);
    const late = await p.client.post('/api/v1/me/factors/webauthn', { name: 'Late', response: authenticator.register(stale.body) });
    expect(late.status).toBe(409);

    const noName = await p.client.post('/api/v1/me/factors/webauthn', { name: '', response: {} });
    expect(noName.status).toBe(400);
    expect(JSON.stringify(noName.body)).toContain('name');
    const badCode = await p.client.post('/api/v1/me/factors/totp', { name: 'Phone', code: '12ab56' });
    expect(badCode.status).toBe(400);
    expect(JSON.stringify(badCode.body)).toContain('code');
    const badRename = await p.client.patch('/api/v1/me/factors/not-a-uuid', { name: 'x' });
    expect(badRename.status).toBe(400);
    expect(JSON.stringify(badRename.body)).toContain('id');
  });

  it('confirms an authenticator app with its first code, which is then spent', async () => {
    const p = await person('totp');
    const started = await p.client.post('/api/v1/me/factors/totp/start');
    expect(started.status).toBe(200);
    expect(started.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(started.body.otpauth_uri).toMatch(new RegExp(`^otpauth://totp/Interim:${encodeURIComponent(p.email)}\\?`));
    expect(started.body.otpauth_uri).toContain(`secret=${started.body.secret}`);
    // Nothing is a factor before the first code checks.
    expect((await p.client.get('/api/v1/me/factors')).body.items).toEqual([]);

    const code = totpCodes(server(), started.body.secret);
    const wrong = await p.client.post('/api/v1/me/factors/totp', { name: 'Phone', code: code(5) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].field).toBe('code');
    // A wrong code leaves the enrolment open.
    const added = await p.client.post('/api/v1/me/factors/totp', { name: 'Phone', code: code() });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ kind: 'totp', name: 'Phone', passwordless: false });
    const stored = await server().app.core.db.selectFrom('mfa_factors').select(['totp_secret', 'totp_last_step']).where('id', '=', added.body.id).executeTakeFirstOrThrow();
    expect(stored.totp_secret).not.toContain(started.body.secret);
    expect(Number(stored.totp_last_step)).toBe(Math.floor(Date.now() / 30_000));
    // The enrolment code cannot sign in.
    const signIn = await new ApiClient(server().url).signIn(p.email, 'a long enough password');
    const reused = await new ApiClient(server().url).post('/api/v1/session/second-factor', { pending: signIn.body.pending, totp: code() });
    expect(reused.status).toBe(401);
    // The pending enrolment is gone.
    expect((await p.client.post('/api/v1/me/factors/totp', { name: 'Again', code: code(1) })).status).toBe(409);
    expect((await p.client.get('/api/v1/me/factors')).body.items).not.toContainEqual(expect.objectContaining({ totp_secret: expect.anything() }));
  });

  it('lets the same first code confirm only once when sent twice at the same time', async () => {
    const p = await person('totp-race');
    const started = await p.client.post('/api/v1/me/factors/totp/start');
    const code = totpCodes(server(), started.body.secret)();
    const statuses = await statusesOf([0, 1, 2].map(() => p.client.post('/api/v1/me/factors/totp', { name: 'Phone', code })));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 201).every((s) => s === 409)).toBe(true);
    expect((await p.client.get('/api/v1/me/factors')).body.items).toHaveLength(1);
  });

  it('an unconfirmed secret expires after 10 minutes', async () => {
    const p = await person('totp-late');
    const started = await p.client.post('/api/v1/me/factors/totp/start');
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const late = await p.client.post('/api/v1/me/factors/totp', { name: 'Phone', code: totpCodes(server(), started.body.secret)() });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('totp_not_started');
  });

  it('renames and removes only your own factors; removing one while another remains needs a step-up', async () => {
    const p = await person('manage');
    const other = await person('other');
    const app = await enrolTotpViaApi(server(), p.client);
    const { factor: key } = await enrolPasskey(server(), p.client, 'Key');

    const renamed = await p.client.patch(`/api/v1/me/factors/${key.id}`, { name: 'Blue key' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Blue key');
    expect((await auditOf(server(), 'mfa.factor_renamed'))[0]).toMatchObject({ target_id: p.id, data: { before: 'Key', after: 'Blue key' } });
    expect((await other.client.patch(`/api/v1/me/factors/${key.id}`, { name: 'Mine' })).status).toBe(404);
    expect((await other.client.delete(`/api/v1/me/factors/${key.id}`)).status).toBe(404);
    expect((await new ApiClient(server().url).get('/api/v1/me/factors')).status).toBe(401);
    expect((await new ApiClient(server().url).delete(`/api/v1/me/factors/${key.id}`)).status).toBe(401);

    // Another factor remains: a step-up for exactly this factor.
    const bare = await p.client.delete(`/api/v1/me/factors/${key.id}`);
    expect(bare.status).toBe(403);
    expect(bare.body).toMatchObject({ code: 'step_up_required' });
    // A code works once per 30-second step: each proof a minute later.
    vi.setSystemTime(Date.now() + 60_000);
    const forTheApp = await stepUpProof(p.client, 'factor_remove', app.factorId, app.code());
    expect((await p.client.delete(`/api/v1/me/factors/${key.id}?step_up=${forTheApp}`)).body.code).toBe('step_up_invalid');
    vi.setSystemTime(Date.now() + 60_000);
    const proof = await stepUpProof(p.client, 'factor_remove', key.id, app.code());
    expect((await p.client.delete(`/api/v1/me/factors/${key.id}?step_up=${proof}`)).status).toBe(204);
    expect((await auditOf(server(), 'mfa.factor_removed'))[0]).toMatchObject({ target_id: p.id, data: { factor_id: key.id, factors: 1, step_up: { proof_id: proof, method: 'totp' } } });

    // The last factor goes without one, and its recovery codes with it.
    expect((await p.client.post('/api/v1/me/recovery-codes')).status).toBe(201);
    expect((await p.client.delete(`/api/v1/me/factors/${app.factorId}`)).status).toBe(204);
    expect((await p.client.get('/api/v1/me/recovery-codes')).body).toEqual({ remaining: 0 });
    expect((await p.client.get('/api/v1/me/factors')).body.items).toEqual([]);
  });

  it('makes ten recovery codes, shown once and stored as hashes, for users with a factor; new ones replace the old', async () => {
    const p = await person('codes');
    const none = await p.client.post('/api/v1/me/recovery-codes');
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('no_factor');
    await enrolTotpViaApi(server(), p.client);
    const first = await p.client.post('/api/v1/me/recovery-codes');
    expect(first.status).toBe(201);
    expect(first.body.codes).toHaveLength(10);
    expect(new Set(first.body.codes).size).toBe(10);
    for (const code of first.body.codes) expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect((await p.client.get('/api/v1/me/recovery-codes')).body).toEqual({ remaining: 10 });
    const stored = await server().app.core.db.selectFrom('mfa_recovery_codes').select('code_hash').where('user_id', '=', p.id).execute();
    expect(stored.map((r) => r.code_hash)).not.toContain(first.body.codes[0]);

    const second = await p.client.post('/api/v1/me/recovery-codes');
    expect((await p.client.get('/api/v1/me/recovery-codes')).body).toEqual({ remaining: 10 });
    const signIn = await new ApiClient(server().url).signIn(p.email, 'a long enough password');
    const old = await new ApiClient(server().url).post('/api/v1/session/second-factor', { pending: signIn.body.pending, recovery_code: first.body.codes[0] });
    expect(old.status).toBe(401);
    const fresh = await new ApiClient(server().url).post('/api/v1/session/second-factor', { pending: signIn.body.pending, recovery_code: second.body.codes[0].toLowerCase() });
    expect(fresh.status).toBe(200);
    expect((await p.client.get('/api/v1/me/recovery-codes')).body).toEqual({ remaining: 9 });
    expect((await auditOf(server(), 'mfa.recovery_codes_generated'))[0]).toMatchObject({ target_id: p.id, data: { count: 10, replaced: 10 } });
  });

  it('keeps exactly one set of ten when codes are made twice at the same time', async () => {
    const p = await person('codes-race');
    await enrolTotpViaApi(server(), p.client);
    const [a, b] = await Promise.all([p.client.post('/api/v1/me/recovery-codes'), p.client.post('/api/v1/me/recovery-codes')]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await p.client.get('/api/v1/me/recovery-codes')).body).toEqual({ remaining: 10 });
    const hashes = new Set((await server().app.core.db.selectFrom('mfa_recovery_codes').select('code_hash').where('user_id', '=', p.id).execute()).map((r) => r.code_hash));
    const kept = [a, b].filter((r) => r.body.codes.every((c: string) => hashes.has(recoveryCodeHash(c))));
    expect(kept).toHaveLength(1);
  });
});
