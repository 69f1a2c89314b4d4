import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

const NEW_PASSWORD = 'another long enough password';

/**
 * DESIGN: disable, delete, a password change (own or by an admin), removal of the admin
 * flag, and the CLI's one-time reset end everything the user holds: sessions, OIDC
 * grants and refresh tokens, and API tokens.
 */
describeEachDialect('every ending ends API tokens, sessions and OIDC grants', (server) => {
  let n = 0;

  /** A user holding a portal session, an API token and an OIDC refresh token. */
  async function holder(extra: Record<string, unknown> = {}) {
    const s = server();
    const email = `holder-${++n}@example.test`;
    const id = await createUser(s, email, extra);
    const portal = new ApiClient(s.url);
    expect((await portal.signIn(email, PASSWORD)).status).toBe(200);
    const token = await s.admin.post('/api/v1/api-tokens', { name: 'ci', user_id: id, expires_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(token.status).toBe(201);
    const bearer = new ApiClient(s.url).withToken(token.body.token);
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(200);
    const app = await createApp(s);
    const config = await relyingParty(s, app);
    const { tokens } = await codeFlow(config, new Browser(s.url), app, { email, password: PASSWORD });
    expect(tokens.refresh_token).toBeDefined();
    return { id, email, portal, bearer, refreshToken: tokens.refresh_token!, config };
  }

  async function expectAllEnded(h: Awaited<ReturnType<typeof holder>>, opts: { portalKept?: boolean } = {}) {
    expect((await h.bearer.get('/api/v1/api-tokens')).status).toBe(401);
    expect((await h.portal.get('/api/v1/session')).status).toBe(opts.portalKept ? 200 : 401);
    const rows = await server().app.core.db.selectFrom('api_tokens').select('id').where('user_id', '=', h.id).execute();
    expect(rows).toEqual([]);
    const oidc = await server().app.core.db.selectFrom('oidc_payloads').select('model').where('account_id', '=', h.id).execute();
    expect(oidc).toEqual([]);
  }

  it('on their own password change (keeping only the session they changed it from)', async () => {
    const h = await holder();
    expect((await h.portal.post('/api/v1/me/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(204);
    await expectAllEnded(h, { portalKept: true });
    const audit = await server().app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'user.password_changed').where('target_id', '=', h.id).executeTakeFirstOrThrow();
    expect(JSON.parse(audit.data)).toEqual({ api_tokens_ended: 1 });
  });

  it('on a password set by an admin', async () => {
    const h = await holder();
    expect((await server().admin.patch(`/api/v1/users/${h.id}`, { password: NEW_PASSWORD })).status).toBe(200);
    await expectAllEnded(h);
  });

  it('on the CLI one-time reset', async () => {
    const h = await holder();
    await server().app.services.users.resetPasswordToOneTime(h.email);
    await expectAllEnded(h);
  });

  it('on disable, and the tokens do not come back on enable', async () => {
    const h = await holder();
    expect((await server().admin.patch(`/api/v1/users/${h.id}`, { disabled: true })).status).toBe(200);
    await expectAllEnded(h);
    expect((await server().admin.patch(`/api/v1/users/${h.id}`, { disabled: false })).status).toBe(200);
    expect((await h.bearer.get('/api/v1/api-tokens')).status).toBe(401);
  });

  it('on delete', async () => {
    const h = await holder();
    expect((await server().admin.delete(`/api/v1/users/${h.id}`)).status).toBe(204);
    await expectAllEnded(h);
  });

  it('on removal of the admin flag', async () => {
    const h = await holder({ is_admin: true });
    expect((await server().admin.patch(`/api/v1/users/${h.id}`, { is_admin: false })).status).toBe(200);
    await expectAllEnded(h);
  });

  it('but not on a rename', async () => {
    const h = await holder();
    expect((await server().admin.patch(`/api/v1/users/${h.id}`, { name: 'Renamed' })).status).toBe(200);
    expect((await h.bearer.get('/api/v1/api-tokens')).status).toBe(200);
    expect((await h.portal.get('/api/v1/session')).status).toBe(200);
  });
});
