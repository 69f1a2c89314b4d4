import * as client from 'openid-client';
import { expect, it } from 'vitest';
import { PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

describeEachDialect('revoking a grant ends the tokens of its application only', (server) => {
  it("kills the refresh token of the grant's application and leaves another application's and the sessions working", async () => {
    const s = server();
    const a = await setUpAccess(s);
    const appA = { id: a.appId, secret: a.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const appB = await createApp(s);
    const [rpA, rpB] = await Promise.all([relyingParty(s, appA), relyingParty(s, appB)]);

    const submitted = await a.requester.client.post('/api/v1/access-requests', validRequest(a.templateId));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    expect((await a.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {})).status).toBe(200);

    const browser = new Browser(s.url);
    const inA = await codeFlow(rpA, browser, appA, { email: a.requester.email, password: PASSWORD });
    expect(inA.tokens.claims()).toMatchObject({ role: 'prod-admin' });
    const inB = await codeFlow(rpB, browser, appB, {});
    expect(inB.sawLoginForm).toBe(false);

    const revoked = await a.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/revoke`, { reason: 'no longer needed' });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);

    // Application A: the refresh token and the access token are dead.
    await expect(client.refreshTokenGrant(rpA, inA.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await client.tokenIntrospection(rpA, inA.tokens.access_token)).toEqual({ active: false });
    // Application B: untouched.
    expect(await client.tokenIntrospection(rpB, inB.tokens.access_token)).toMatchObject({ active: true });
    const refreshedB = await client.refreshTokenGrant(rpB, inB.tokens.refresh_token!);
    expect(refreshedB.access_token).toBeTruthy();
    // The portal session and the single sign-on survive: A can be signed in to again without the form, minus the role.
    expect((await a.requester.client.get('/api/v1/session')).status).toBe(200);
    const again = await codeFlow(rpA, browser, appA, {});
    expect(again.sawLoginForm).toBe(false);
    expect(again.tokens.claims()).not.toHaveProperty('role');
  });

  it('a disabled user still loses the tokens of every application', async () => {
    const s = server();
    const a = await setUpAccess(s);
    const appA = { id: a.appId, secret: a.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const appB = await createApp(s);
    const [rpA, rpB] = await Promise.all([relyingParty(s, appA), relyingParty(s, appB)]);
    const browser = new Browser(s.url);
    const inA = await codeFlow(rpA, browser, appA, { email: a.outsider.email, password: PASSWORD });
    const inB = await codeFlow(rpB, browser, appB, {});
    expect((await s.admin.patch(`/api/v1/users/${a.outsider.id}`, { disabled: true })).status).toBe(200);
    await expect(client.refreshTokenGrant(rpA, inA.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(rpB, inB.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await a.outsider.client.get('/api/v1/session')).status).toBe(401);
  });
});
