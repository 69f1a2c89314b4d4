import * as client from 'openid-client';
import { afterEach, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { allowResource } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty } from './helpers/oidc-rp.ts';

const API = 'https://api.example.test';

/** The product in one story, with a real OIDC client: request → approve → claim → expiry → gone. */
describeEachDialect('access request end to end with a real relying party', (server) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grants the claim on approval and takes it away at expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = await setUpAccess(server());
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    await allowResource(server(), API, app.id);
    const config = await relyingParty(server(), app);
    const browser = new Browser(server().url);

    // Before: signed in, but no role.
    const before = await codeFlow(config, browser, app, { email: s.requester.email, password: PASSWORD, params: { resource: API } });
    expect(before.tokens.claims()).not.toHaveProperty('role');

    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, { comment: 'ok for the incident' });
    expect(approved.status).toBe(200);
    const expiresAt = Date.parse(approved.body.expires_at);

    // A fresh token carries the granted claim, and no token outlives the grant.
    const refreshed = await client.refreshTokenGrant(config, before.tokens.refresh_token!, { resource: API });
    expect(refreshed.claims()).toMatchObject({ role: 'prod-admin' });
    const jwt = decodeJwt(refreshed.access_token) as { role: string; exp: number };
    expect(jwt.role).toBe('prod-admin');
    expect(jwt.exp * 1000).toBeLessThanOrEqual(expiresAt);
    expect(jwt.exp * 1000 - Date.now()).toBeLessThanOrEqual(server().config.tempAccessTokenTtlSecs * 1000);
    const withClaim = await client.refreshTokenGrant(config, refreshed.refresh_token!);
    expect(await client.fetchUserInfo(config, withClaim.access_token, s.requester.id)).toMatchObject({ role: 'prod-admin' });

    // The clock passes the expiry. Access ends even before the worker runs…
    vi.setSystemTime(expiresAt + 1000);
    expect((await client.tokenIntrospection(config, withClaim.access_token)).active).toBe(false);
    const after = await client.refreshTokenGrant(config, withClaim.refresh_token!);
    expect(after.claims()).not.toHaveProperty('role');
    expect(await client.fetchUserInfo(config, after.access_token, s.requester.id)).not.toHaveProperty('role');

    // …and the worker records it.
    await server().app.runWorkerOnce();
    // Without SMTP the notification emails dead-letter at once (delivery.dead_lettered); the lifecycle is what counts here.
    const timeline = await s.requester.client.get(`/api/v1/access-requests/${submitted.body.id}/timeline`);
    timeline.body = timeline.body.filter((e: { action: string }) => e.action.startsWith('access_request.'));
    expect(timeline.body.map((e: { action: string; actor_type: string; actor_id: string | null }) => [e.action, e.actor_type, e.actor_id])).toEqual([
      ['access_request.submitted', 'user', s.requester.id],
      ['access_request.approved', 'user', s.approver.id],
      ['access_request.activated', 'user', s.approver.id],
      ['access_request.expired', 'system', null],
    ]);
    expect(timeline.body[0].data).toMatchObject({ justification: 'INC-1234: replica lag in eu-west', fields: { ticket: 'INC-1234' } });
    expect(timeline.body[1].data).toMatchObject({ comment: 'ok for the incident', grants: [{ claim: 'role', value: 'prod-admin' }] });
    expect(timeline.body[2].data).toMatchObject({ scheduled: false });
    expect(timeline.body[3].data).toMatchObject({ end_reason: 'automatic' });
    expect((await verifyAuditChain(server().app.core.db)).ok).toBe(true);
  });

  it('revocation ends the requester’s tokens at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = await setUpAccess(server());
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const config = await relyingParty(server(), app);
    const { body } = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    await s.approver.client.post(`/api/v1/access-requests/${body.id}/approve`, {});
    const { tokens } = await codeFlow(config, new Browser(server().url), app, { email: s.requester.email, password: PASSWORD });
    expect(tokens.claims()).toMatchObject({ role: 'prod-admin' });
    expect((await s.approver.client.post(`/api/v1/access-requests/${body.id}/revoke`, { reason: 'done' })).status).toBe(200);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
