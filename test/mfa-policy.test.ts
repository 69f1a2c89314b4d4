import { afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson, PASSWORD, setUpAccess, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { auditOf, enrolPasskey, enrolTotpViaApi, stepUpProof, totpCodes } from './helpers/mfa-api.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp } from './helpers/oidc-fixtures.ts';
import { deviceTokens } from './helpers/cli-session.ts';
import { ACCESS_TOKEN_TYPE, CLI_CLIENT_ID, TOKEN_EXCHANGE_GRANT } from '../src/oidc/cli-client.ts';
import { authorizationRequest, relyingParty, submitLogin } from './helpers/oidc-rp.ts';

describeEachDialect('the MFA policy and admin reset', (server) => {
  /** The bootstrap admin (its API token is server().admin) has an authenticator app, so every policy change and reset needs its step-up. */
  let adminCode: (stepOffset?: number) => string;
  beforeAll(async () => {
    const me = await server().admin.get('/api/v1/session');
    adminCode = (await enrolTotp(server(), me.body.user.id)).code;
  });
  let minutes = 0;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + ++minutes * 20 * 60_000);
  });
  afterEach(async () => {
    // Every test starts from "off".
    await setPolicy('off');
    vi.useRealTimers();
  });

  /** A step-up of the bootstrap admin, a minute after the last (a code works once per step). */
  const adminProof = async (action: string, target: string) => {
    vi.setSystemTime(Date.now() + 60_000);
    return stepUpProof(server().admin, action, target, adminCode());
  };
  const setPolicy = async (policy: string) => {
    const res = await server().admin.request('PUT', '/api/v1/settings/mfa-policy', { policy, step_up: await adminProof('mfa_policy', 'mfa_policy') });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res;
  };
  const person = (label: string, opts: { isAdmin?: boolean } = {}): Promise<Person> => createPerson(server(), label, opts);
  const tokenOf = async (p: Person) => {
    const created = await p.client.post('/api/v1/api-tokens', { name: 'script', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return new ApiClient(server().url).withToken(created.body.token);
  };

  it('is read and set by admins only, off by default; bad input names the field', async () => {
    expect((await server().admin.get('/api/v1/settings/mfa-policy')).body).toEqual({ policy: 'off' });
    const p = await person('not-admin');
    expect((await p.client.get('/api/v1/settings/mfa-policy')).status).toBe(403);
    expect((await p.client.request('PUT', '/api/v1/settings/mfa-policy', { policy: 'off' })).status).toBe(403);
    expect((await new ApiClient(server().url).get('/api/v1/settings/mfa-policy')).status).toBe(401);
    const bad = await server().admin.request('PUT', '/api/v1/settings/mfa-policy', { policy: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('policy');
  });

  it('needs the admin to have a factor, and their step-up, to turn it on', async () => {
    const bareAdmin = await person('bare-admin', { isAdmin: true });
    const refused = await bareAdmin.client.request('PUT', '/api/v1/settings/mfa-policy', { policy: 'everyone' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('mfa_enrol_first');
    const noProof = await server().admin.request('PUT', '/api/v1/settings/mfa-policy', { policy: 'everyone' });
    expect(noProof.status).toBe(403);
    expect(noProof.body.code).toBe('step_up_required');
    const wrongAct = await server().admin.request('PUT', '/api/v1/settings/mfa-policy', { policy: 'everyone', step_up: await adminProof('mfa_reset', 'mfa_policy') });
    expect(wrongAct.body.code).toBe('step_up_invalid');
    await setPolicy('everyone');
    const [event] = await auditOf(server(), 'mfa.policy_updated');
    expect(event!.data).toMatchObject({ before: 'off', after: 'everyone', step_up: { method: 'totp' } });
  });

  it('everyone: a user without a factor may only enrol, by session, API token and command line alike, until they do', async () => {
    const p = await person('must-enrol');
    const token = await tokenOf(p);
    const cliToken = (await deviceTokens(server(), p)).access_token as string;
    const cli = new ApiClient(server().url).withToken(cliToken);
    const app = await createApp(server());
    // `interim token --app`: the token exchange refuses the held-back CLI token as the API does.
    const exchange = async () => {
      const res = await fetch(`${server().url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, client_id: CLI_CLIENT_ID, subject_token: cliToken, subject_token_type: ACCESS_TOKEN_TYPE, audience: app.id }).toString(),
      });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    const enrolled = await person('enrolled');
    await enrolTotp(server(), enrolled.id);
    await setPolicy('everyone');

    const blocked = await p.client.get('/api/v1/access-requests');
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('mfa_enrolment_required');
    expect((await token.get('/api/v1/access-requests')).body.code).toBe('mfa_enrolment_required');
    expect((await cli.get('/api/v1/access-requests')).body.code).toBe('mfa_enrolment_required');
    expect(await exchange()).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await p.client.get('/api/v1/session')).body).toMatchObject({ user: { id: p.id }, mfa_enrolment_required: true });
    expect((await p.client.get('/api/v1/me/factors')).status).toBe(200);
    expect((await p.client.get('/api/v1/me/recovery-codes')).status).toBe(200);
    expect((await enrolled.client.get('/api/v1/access-requests')).status).toBe(200);
    // Someone who signs in while it applies is held back too.
    const late = await person('signs-in-later');
    expect((await late.client.get('/api/v1/access-requests')).body.code).toBe('mfa_enrolment_required');

    await enrolPasskey(server(), p.client);
    expect((await p.client.get('/api/v1/access-requests')).status).toBe(200);
    expect((await token.get('/api/v1/access-requests')).status).toBe(200);
    expect((await cli.get('/api/v1/access-requests')).status).toBe(200);
    expect((await exchange()).status).toBe(200);
    expect((await p.client.get('/api/v1/session')).body.mfa_enrolment_required).toBe(false);

    await setPolicy('off');
    expect((await late.client.get('/api/v1/access-requests')).status).toBe(200);
  });

  it('keeps the OIDC login closed to a user the policy holds back, password or live portal session alike', async () => {
    const p = await person('oidc-held');
    await setPolicy('everyone');
    const app = await createApp(server());
    const config = await relyingParty(server(), app);
    const browser = new Browser(server().url);
    const login = await browser.navigate((await authorizationRequest(config, app)).url.href);
    const held = await submitLogin(browser, login, p.email, PASSWORD);
    expect(held.status).toBe(403);
    expect(held.html).toContain('requires a second factor');
    expect(held.leftTo).toBeUndefined();
    // The portal session that sign-in opened does not sign them in to the application either.
    const again = await browser.navigate((await authorizationRequest(config, app)).url.href);
    expect(again.status).toBe(403);
    expect(again.leftTo).toBeUndefined();
  });

  it('admins_and_approvers covers admins and members of approver groups, and nobody else', async () => {
    const s = await setUpAccess(server());
    await setPolicy('admins_and_approvers');
    expect((await s.approver.client.get('/api/v1/access-requests')).body.code).toBe('mfa_enrolment_required');
    expect((await s.admin.client.get('/api/v1/access-requests')).body.code).toBe('mfa_enrolment_required');
    expect((await s.requester.client.get('/api/v1/access-requests')).status).toBe(200);
    expect((await s.outsider.client.get('/api/v1/access-requests')).status).toBe(200);
    await enrolTotpViaApi(server(), s.approver.client);
    expect((await s.approver.client.get('/api/v1/access-requests')).status).toBe(200);
  });

  it('keeps who must enrol in step with the winner when two admins change the policy at the same time', async () => {
    const p = await person('plain-user');
    for (const pair of [
      ['everyone', 'admins_and_approvers'],
      ['off', 'everyone'],
    ]) {
      const proofs = [await adminProof('mfa_policy', 'mfa_policy'), await adminProof('mfa_policy', 'mfa_policy')];
      const results = await Promise.all(pair.map((policy, i) => server().admin.request('PUT', '/api/v1/settings/mfa-policy', { policy, step_up: proofs[i] })));
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const winner = (await auditOf(server(), 'mfa.policy_updated'))[0]!.data.after;
      expect((await server().admin.get('/api/v1/settings/mfa-policy')).body.policy).toBe(winner);
      const status = (await p.client.get('/api/v1/access-requests')).status;
      expect(status).toBe(winner === 'everyone' ? 403 : 200);
    }
  });

  it('never holds back someone whose first factor lands while the policy changes', async () => {
    const people = await Promise.all([person('race-1'), person('race-2'), person('race-3')]);
    const started = await Promise.all(people.map((p) => p.client.post('/api/v1/me/factors/totp/start')));
    const proof = await adminProof('mfa_policy', 'mfa_policy');
    const codes = started.map((s) => totpCodes(server(), s.body.secret)());
    const [policy, ...enrolled] = await Promise.all([
      server().admin.request('PUT', '/api/v1/settings/mfa-policy', { policy: 'everyone', step_up: proof }),
      ...people.map((p, i) => p.client.post('/api/v1/me/factors/totp', { name: 'Phone', code: codes[i] })),
    ]);
    expect([policy.status, ...enrolled.map((r) => r.status)]).toEqual([200, 201, 201, 201]);
    for (const p of people) {
      const res = await p.client.get('/api/v1/access-requests');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });

  it("resets a user's factors and recovery codes, ends all their access, and is audited", async () => {
    const p = await person('reset-me');
    await enrolTotpViaApi(server(), p.client);
    await enrolPasskey(server(), p.client);
    expect((await p.client.post('/api/v1/me/recovery-codes')).status).toBe(201);
    const token = await tokenOf(p);
    const other = await person('not-admin');

    expect((await other.client.delete(`/api/v1/users/${p.id}/factors`)).status).toBe(403);
    expect((await new ApiClient(server().url).delete(`/api/v1/users/${p.id}/factors`)).status).toBe(401);
    const badId = await server().admin.delete('/api/v1/users/nope/factors');
    expect(badId.status).toBe(400);
    expect(JSON.stringify(badId.body)).toContain('id');
    expect((await server().admin.delete(`/api/v1/users/${p.id}/factors`)).body.code).toBe('step_up_required');
    expect((await server().admin.delete(`/api/v1/users/${crypto.randomUUID()}/factors?step_up=${await adminProof('mfa_reset', 'x')}`)).status).toBe(404);

    const proof = await adminProof('mfa_reset', p.id);
    const reset = await server().admin.delete(`/api/v1/users/${p.id}/factors?step_up=${proof}`);
    expect(reset.status, JSON.stringify(reset.body)).toBe(204);
    expect((await p.client.get('/api/v1/session')).status).toBe(401);
    expect((await token.get('/api/v1/access-requests')).status).toBe(401);
    const [event] = await auditOf(server(), 'mfa.reset');
    expect(event).toMatchObject({ target_id: p.id, data: { factors: 2, recovery_codes: 10, api_tokens_ended: 1, step_up: { proof_id: proof } } });
    // The password alone signs in again.
    const again = await new ApiClient(server().url).signIn(p.email, PASSWORD);
    expect(again.body).toMatchObject({ user: { id: p.id }, amr: ['pwd'] });
  });

  it('leaves no session behind when a reset races a sign-in', async () => {
    const p = await person('racing');
    const totp = await enrolTotp(server(), p.id);
    const client = new ApiClient(server().url);
    const pending = (await client.post('/api/v1/session', { email: p.email, password: PASSWORD })).body.pending as string;
    const proof = await adminProof('mfa_reset', p.id);
    const [signIn, reset] = await Promise.all([client.post('/api/v1/session/second-factor', { pending, totp: totp.code() }), server().admin.delete(`/api/v1/users/${p.id}/factors?step_up=${proof}`)]);
    expect(reset.status).toBe(204);
    expect([200, 401]).toContain(signIn.status);
    const live = await server().app.core.db.selectFrom('sessions').select('id').where('user_id', '=', p.id).execute();
    expect(live).toEqual([]);
    expect(await server().app.core.db.selectFrom('mfa_factors').select('id').where('user_id', '=', p.id).execute()).toEqual([]);
  });
});
