import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { deviceTokens, runCli, signedInCli } from './helpers/cli-session.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { verifyJwt } from './helpers/oidc-rp.ts';
import { allowResource, TEST_API } from './helpers/oidc-fixtures.ts';

const accessTokenOf = (dir: string) => String((JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { access_token: string }).access_token);

/** `interim token --app …` run to its end: exit code and the parsed JSON. */
async function exchange(dir: string, app: string) {
  const r = await runCli(dir, 'token', '--app', app, '--json');
  return { code: r.code, stderr: r.stderr, body: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describeEachDialect('interim token --app: token exchange for the CLI', (server) => {
  let access: AccessSetup;
  let cli: string;
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a token for an application carries the grant\'s claims, signed by the provider, and ends no later than the grant', async () => {
    access = await setUpAccess(server());
    cli = await signedInCli(server(), access.requester);
    // The application's own lifetime is longer than the grant: the grant's end caps the token.
    expect((await server().admin.patch(`/api/v1/applications/${access.appId}`, { access_token_ttl_secs: 4 * 3600 })).status).toBe(200);
    const made = await access.requester.client.post('/api/v1/access-requests', validRequest(access.templateId));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const approved = await access.approver.client.post(`/api/v1/access-requests/${made.body.id}/approve`, {});
    expect(approved.body.status).toBe('approved');
    const grantEnd = Date.parse(approved.body.expires_at) / 1000;

    const issued = await exchange(cli, access.appId);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    const { payload } = await verifyJwt(server(), issued.body.access_token);
    expect(payload).toMatchObject({ sub: access.requester.id, aud: access.appId, client_id: access.appId, role: 'prod-admin', iss: `${server().url}/oidc` });
    expect(Number(payload.exp)).toBeLessThanOrEqual(grantEnd + 1);
    // INTERIM_TEMP_ACCESS_TOKEN_TTL_SECS (300 s by default) caps a token whose claim comes from a temporary grant.
    expect(Number(payload.exp)).toBeLessThanOrEqual(Date.now() / 1000 + 300 + 5);
    expect(Number(payload.exp)).toBeGreaterThan(Date.now() / 1000);

    // Plain output is the token alone, for scripts.
    const plain = await runCli(cli, 'token', '--app', access.appId);
    expect(plain.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const audited = await server().app.core.db.selectFrom('audit_events').select(['action', 'target_id']).where('action', '=', 'oidc.token_exchange').where('actor_id', '=', access.requester.id).execute();
    expect(audited.length).toBeGreaterThanOrEqual(2);
    expect(audited[0]!.target_id).toBe(access.appId);

    // For one of the application's resource servers: aud is the resource, the claims the same; another resource is refused.
    await allowResource(server(), TEST_API, access.appId);
    const forApi = await runCli(cli, 'token', '--app', access.appId, '--resource', TEST_API, '--json');
    expect(forApi.code, forApi.stderr).toBe(0);
    expect((await verifyJwt(server(), JSON.parse(forApi.stdout).access_token)).payload).toMatchObject({ aud: TEST_API, client_id: access.appId, role: 'prod-admin' });
    const elsewhere = await runCli(cli, 'token', '--app', access.appId, '--resource', 'https://other.example.test', '--json');
    expect(elsewhere.code).toBe(4);
    expect(JSON.parse(elsewhere.stdout).error.problem.error).toBe('invalid_target');

    // Revoking the grant: a new exchange no longer carries its claim.
    expect((await access.approver.client.post(`/api/v1/access-requests/${made.body.id}/revoke`, { reason: 'done' })).status).toBe(200);
    const after = await exchange(cli, access.appId);
    expect(after.code, after.stderr).toBe(0);
    expect((await verifyJwt(server(), after.body.access_token)).payload).not.toHaveProperty('role');
  });

  it('near the grant\'s end (injected clock), the exchanged token ends with the grant', async () => {
    const made = await access.requester.client.post('/api/v1/access-requests', validRequest(access.templateId));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const approved = await access.approver.client.post(`/api/v1/access-requests/${made.body.id}/approve`, {});
    const grantEnd = Date.parse(approved.body.expires_at);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(grantEnd - 90_000);
    const tokens = await deviceTokens(server(), access.requester);
    const res = await fetch(`${server().url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        client_id: 'interim-cli',
        subject_token: tokens.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: access.appId,
      }).toString(),
    });
    const body = (await res.json()) as { access_token: string; expires_in: number };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.expires_in).toBeLessThanOrEqual(90);
    const { payload } = await verifyJwt(server(), body.access_token);
    expect(payload.role).toBe('prod-admin');
    expect(Number(payload.exp) * 1000).toBeLessThanOrEqual(grantEnd);
    vi.useRealTimers();
    expect((await access.approver.client.post(`/api/v1/access-requests/${made.body.id}/revoke`, { reason: 'done' })).status).toBe(200);
  });

  it('refuses an unknown application (exit 4), the CLI itself as audience, and a subject token that is not the CLI\'s access token', async () => {
    const unknown = await exchange(cli, 'no-such-app');
    expect(unknown.code).toBe(4);
    expect(unknown.body.error.problem.error).toBe('invalid_target');
    const self = await exchange(cli, 'interim-cli');
    expect(self.code).toBe(4);

    const refresh = String((JSON.parse(readFileSync(join(cli, 'credentials.json'), 'utf8')) as { refresh_token: string }).refresh_token);
    const res = await fetch(`${server().url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        client_id: 'interim-cli',
        subject_token: refresh,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: access.appId,
      }).toString(),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('a password change ends the CLI\'s sign-in: its access token gets 401 on the API and the CLI says to sign in (exit 3)', async () => {
    const dir = await signedInCli(server(), access.approver);
    const token = accessTokenOf(dir);
    expect((await new ApiClient(server().url).withToken(token).get('/api/v1/access-requests')).status).toBe(200);
    const changed = await access.approver.client.post('/api/v1/me/password', { current_password: PASSWORD, new_password: 'another long enough password' });
    expect(changed.status, JSON.stringify(changed.body)).toBeLessThan(300);
    expect((await new ApiClient(server().url).withToken(token).get('/api/v1/access-requests')).status).toBe(401);
    const r = await runCli(dir, 'requests');
    expect(r.code).toBe(3);
  });

  it('disabling the user ends the CLI: 401 on the API, and the exchange fails', async () => {
    const token = accessTokenOf(cli);
    expect((await new ApiClient(server().url).withToken(token).get('/api/v1/access-requests')).status).toBe(200);
    expect((await server().admin.patch(`/api/v1/users/${access.requester.id}`, { disabled: true })).status).toBe(200);
    expect((await new ApiClient(server().url).withToken(token).get('/api/v1/access-requests')).status).toBe(401);
    const refused = await exchange(cli, access.appId);
    expect(refused.code).toBe(3);
    const direct = await fetch(`${server().url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', client_id: 'interim-cli', subject_token: token, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: access.appId }).toString(),
    });
    expect(((await direct.json()) as { error: string }).error).toBe('invalid_grant');
  });
});
