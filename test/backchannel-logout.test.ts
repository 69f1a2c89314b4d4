import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOidcPayloadsRepo } from '../src/oidc/payloads.repo.ts';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startLogoutReceiver } from './helpers/logout-receiver.ts';
import { Browser, parseForm } from './helpers/oidc-browser.ts';
import { allowResource, createUser, PASSWORD, TEST_API, type AppFixture } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

const receiver = await startLogoutReceiver();
afterAll(() => receiver.close());

const NEW_PASSWORD = 'another long enough password';

/**
 * OpenID Connect Back-Channel Logout 1.0 (issue 13 §1), end to end: a real openid-client
 * relying party signs in, then each path that ends the session makes the outbox POST one
 * logout token to the application's registered URI, which a real receiver validates
 * (helpers/logout-receiver.ts). Each path records its signals exactly once.
 */
describeEachDialect(
  'back-channel logout',
  (server) => {
    let n = 0;
    beforeAll(() => receiver.expectIssuer(`${server().url}/oidc`));

    /** An application registered through the API with a logout URI on the receiver. */
    async function logoutApp(sessionRequired = true, alg: 'EdDSA' | 'ES256' | 'RS256' = 'EdDSA'): Promise<AppFixture> {
      const s = server();
      const created = await s.admin.post('/api/v1/applications', {
        name: `bcl app ${++n}`,
        redirect_uris: ['http://127.0.0.1:9/callback'],
        first_party: true,
        id_token_signed_response_alg: alg,
        backchannel_logout_session_required: sessionRequired,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      // Registered afterwards: the URI names the application's own id.
      const updated = await s.admin.patch(`/api/v1/applications/${created.body.id}`, { backchannel_logout_uri: receiver.uriFor(created.body.id) });
      expect(updated.status, JSON.stringify(updated.body)).toBe(200);
      expect(updated.body.backchannel_logout_uri).toBe(receiver.uriFor(created.body.id));
      expect(updated.body.backchannel_logout_session_required).toBe(sessionRequired);
      await allowResource(s, TEST_API, created.body.id);
      return { id: created.body.id, secret: created.body.client_secret, redirectUri: 'http://127.0.0.1:9/callback' };
    }

    /** A user signed in to a relying party of `app` through the real front channel; its ID token's sid. */
    async function signedIn(app: AppFixture, extra: Record<string, unknown> = {}) {
      const s = server();
      const email = `bcl-${++n}@example.test`;
      const id = await createUser(s, email, extra);
      const browser = new Browser(s.url);
      const config = await relyingParty(s, app, (await s.admin.get(`/api/v1/applications/${app.id}`)).body.id_token_signed_response_alg);
      const { tokens } = await codeFlow(config, browser, app, { email, password: PASSWORD });
      const claims = tokens.claims()!;
      expect(claims.sub).toBe(id);
      return { id, email, browser, sid: claims.sid as string | undefined, config };
    }

    /** The signals recorded for a user, by type, sorted. */
    async function signalsOf(userId: string) {
      const rows = await server().app.core.db.selectFrom('outbox_events').select(['type', 'payload']).where('type', 'like', 'signal.%').execute();
      return rows
        .map((r) => JSON.parse(r.payload) as { type: string; subject: { user_id: string }; reason: string; initiator: string; sessions: { client_id: string; sid: string }[] })
        .filter((p) => p.subject.user_id === userId);
    }

    /** Runs the worker, then the logout tokens the receiver accepted for `userId`. */
    async function deliveredFor(userId: string) {
      await server().app.runWorkerOnce();
      expect(receiver.refused).toEqual([]);
      return receiver.received.filter((r) => r.payload.sub === userId);
    }

    async function expectOneLogout(app: AppFixture, user: { id: string; sid?: string }) {
      expect(user.sid, 'the ID token carries sid').toBeTruthy();
      const tokens = await deliveredFor(user.id);
      expect(tokens).toHaveLength(1);
      expect(tokens[0]!.appId).toBe(app.id);
      expect(tokens[0]!.payload.aud).toBe(app.id);
      expect(tokens[0]!.payload.sid).toBe(user.sid);
    }

    const typesOf = async (userId: string) => (await signalsOf(userId)).map((p) => p.type).sort();

    it('the discovery document announces back-channel logout with sessions', async () => {
      const discovery = (await (await fetch(`${server().url}/oidc/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery.backchannel_logout_supported).toBe(true);
      expect(discovery.backchannel_logout_session_supported).toBe(true);
    });

    it('portal sign-out: one logout token, signed as the ID tokens, and sessions_ended once', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      const portal = new ApiClient(server().url);
      expect((await portal.signIn(user.email, PASSWORD)).status).toBe(200);
      expect((await portal.delete('/api/v1/session')).status).toBe(204);
      await expectOneLogout(app, user);
      expect(receiver.received.find((r) => r.payload.sub === user.id)!.alg).toBe('EdDSA');
      const signals = await signalsOf(user.id);
      expect(signals.map((s) => s.type)).toEqual(['signal.sessions_ended']);
      expect(signals[0]!.initiator).toBe('user');
      expect(signals[0]!.reason).toBeTruthy();
      expect(signals[0]!.sessions).toEqual([{ client_id: app.id, sid: user.sid }]);
      // Visible in the deliveries, sent.
      const deliveries = await server().admin.get(`/api/v1/deliveries?channel=backchannel_logout&event_id=${(await server().app.core.db.selectFrom('outbox_events').select('id').where('type', '=', 'signal.sessions_ended').where('payload', 'like', `%${user.id}%`).executeTakeFirstOrThrow()).id}`);
      expect(deliveries.status).toBe(200);
      expect(deliveries.body.items).toHaveLength(1);
      expect(deliveries.body.items[0]).toMatchObject({ channel: 'backchannel_logout', status: 'succeeded', target: `application:${app.id};sid=${user.sid}` });
    });

    it('sign-out at the provider (RP-initiated logout) sends the logout token from the outbox', async () => {
      const app = await logoutApp(true, 'RS256');
      const user = await signedIn(app);
      const question = await user.browser.navigate('/oidc/session/end');
      expect(question.status).toBe(200);
      const form = parseForm(question.html!);
      const done = await user.browser.navigate(form.action, { form: { ...form.fields, logout: 'yes' } });
      expect(done.status).toBeLessThan(400);
      // oidc-provider's own sender is silenced: nothing arrives until the outbox delivers.
      expect(receiver.received.filter((r) => r.payload.sub === user.id)).toEqual([]);
      await expectOneLogout(app, user);
      expect(receiver.received.find((r) => r.payload.sub === user.id)!.alg).toBe('RS256');
      expect(await typesOf(user.id)).toEqual(['signal.sessions_ended']);
    });

    it('disable: account_disabled and sessions_ended (admin), one logout token; enable: account_enabled, none', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      expect((await server().admin.patch(`/api/v1/users/${user.id}`, { disabled: true })).status).toBe(200);
      await expectOneLogout(app, user);
      const signals = await signalsOf(user.id);
      expect(signals.map((s) => s.type).sort()).toEqual(['signal.account_disabled', 'signal.sessions_ended']);
      expect(signals.every((s) => s.initiator === 'admin' && s.reason.length > 0)).toBe(true);
      expect((await server().admin.patch(`/api/v1/users/${user.id}`, { disabled: false })).status).toBe(200);
      expect(await deliveredFor(user.id)).toHaveLength(1);
      expect(await typesOf(user.id)).toEqual(['signal.account_disabled', 'signal.account_enabled', 'signal.sessions_ended']);
    });

    it('own password change: credential_changed and sessions_ended (user), one logout token', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      const portal = new ApiClient(server().url);
      expect((await portal.signIn(user.email, PASSWORD)).status).toBe(200);
      expect((await portal.post('/api/v1/me/password', { current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(204);
      await expectOneLogout(app, user);
      const signals = await signalsOf(user.id);
      expect(signals.map((s) => s.type).sort()).toEqual(['signal.credential_changed', 'signal.sessions_ended']);
      expect(signals.every((s) => s.initiator === 'user')).toBe(true);
    });

    it('admin password reset: credential_changed and sessions_ended (admin), one logout token', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      expect((await server().admin.patch(`/api/v1/users/${user.id}`, { password: NEW_PASSWORD })).status).toBe(200);
      await expectOneLogout(app, user);
      expect(await typesOf(user.id)).toEqual(['signal.credential_changed', 'signal.sessions_ended']);
    });

    it('the one-time reset (`interim admin reset-password`, which builds the same services): credential_changed and sessions_ended, one logout token', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      await server().app.services.users.resetPasswordToOneTime(user.email);
      await expectOneLogout(app, user);
      expect(await typesOf(user.id)).toEqual(['signal.credential_changed', 'signal.sessions_ended']);
    });

    it('delete: account_purged and sessions_ended, one logout token', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      expect((await server().admin.delete(`/api/v1/users/${user.id}`)).status).toBe(204);
      await expectOneLogout(app, user);
      expect(await typesOf(user.id)).toEqual(['signal.account_purged', 'signal.sessions_ended']);
    });

    it('removal of the admin flag: sessions_ended only, one logout token', async () => {
      const app = await logoutApp();
      const user = await signedIn(app, { is_admin: true });
      expect((await server().admin.patch(`/api/v1/users/${user.id}`, { is_admin: false })).status).toBe(200);
      await expectOneLogout(app, user);
      expect(await typesOf(user.id)).toEqual(['signal.sessions_ended']);
    });

    it('a rename sends nothing', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      expect((await server().admin.patch(`/api/v1/users/${user.id}`, { name: 'Renamed' })).status).toBe(200);
      expect(await deliveredFor(user.id)).toEqual([]);
      expect(await typesOf(user.id)).toEqual([]);
    });

    it('a revoked grant (claims_changed, grant_ended): a logout token per live session in which the client is authorized; the session survives', async () => {
      const s = server();
      const app = await logoutApp();
      const other = await logoutApp();
      const user = await signedIn(app);
      await s.app.core.db.transaction().execute(async (trx) => {
        // What a revocation does (requests/transitions.ts): that application's provider grants end, sessions survive.
        await createOidcPayloadsRepo(trx).deleteAppGrantsOf(user.id, app.id);
        await s.app.services.recordSignals(trx, [{ type: 'claims_changed', userId: user.id, appId: app.id, reason: 'Access revoked by an administrator', initiator: 'admin', grantEnded: true }]);
        // The other application has no session of this user and requires sid: nothing for it.
        await s.app.services.recordSignals(trx, [{ type: 'claims_changed', userId: user.id, appId: other.id, reason: 'Access revoked by an administrator', initiator: 'admin', grantEnded: true }]);
      });
      await expectOneLogout(app, user);
      const sessions = await s.app.core.db.selectFrom('oidc_payloads').select('id').where('model', '=', 'Session').where('account_id', '=', user.id).execute();
      expect(sessions).toHaveLength(1);
    });

    it('one transaction that revokes a grant and then ends the sessions (disable, delete) sends one token per session', async () => {
      const s = server();
      const app = await logoutApp();
      const user = await signedIn(app);
      await s.app.core.db.transaction().execute(async (trx) => {
        await createOidcPayloadsRepo(trx).deleteAppGrantsOf(user.id, app.id);
        await s.app.services.recordSignals(trx, [{ type: 'claims_changed', userId: user.id, appId: app.id, reason: 'Access revoked: the account was disabled', initiator: 'admin', grantEnded: true }]);
        const sessions = await createOidcPayloadsRepo(trx).deleteAllOf(user.id);
        expect(sessions).toEqual([{ client_id: app.id, sid: user.sid }]);
        await s.app.services.recordSignals(trx, [{ type: 'sessions_ended', userId: user.id, reason: 'Sessions ended: the account was disabled', initiator: 'admin', sessions }]);
      });
      await expectOneLogout(app, user);
      const rows = await s.app.core.db.selectFrom('deliveries').select(['ordering_key']).where('channel', '=', 'backchannel_logout').where('target', '=', `application:${app.id};sid=${user.sid}`).execute();
      // Ordered per application and user.
      expect(rows).toEqual([{ ordering_key: `backchannel_logout:${app.id}:${user.id}` }]);
    });

    it('a revoked grant without a session, for an application that does not require sid: one token with sub only', async () => {
      const s = server();
      const app = await logoutApp(false);
      const email = `bcl-nosession-${++n}@example.test`;
      const userId = await createUser(s, email);
      await s.app.core.db.transaction().execute((trx) =>
        s.app.services.recordSignals(trx, [{ type: 'claims_changed', userId, appId: app.id, reason: 'Access expired', initiator: 'system', grantEnded: true }]),
      );
      const tokens = await deliveredFor(userId);
      expect(tokens).toHaveLength(1);
      expect(tokens[0]!.payload.sid).toBeUndefined();
      expect(tokens[0]!.payload.sub).toBe(userId);
    });

    it('a claims change that ends no grant sends no logout token', async () => {
      const s = server();
      const app = await logoutApp(false);
      const user = await signedIn(app);
      await s.app.core.db.transaction().execute((trx) =>
        s.app.services.recordSignals(trx, [{ type: 'claims_changed', userId: user.id, appId: app.id, reason: 'A membership changed', initiator: 'admin' }]),
      );
      expect(await deliveredFor(user.id)).toEqual([]);
    });

    it('retries a receiver that fails, with the same jti, and the token arrives once', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      receiver.answer(503);
      try {
        expect((await server().admin.patch(`/api/v1/users/${user.id}`, { password: NEW_PASSWORD })).status).toBe(200);
        expect(await deliveredFor(user.id)).toEqual([]);
        const [pending] = await server().app.core.db.selectFrom('deliveries').select(['id', 'status', 'attempts', 'last_error']).where('target', '=', `application:${app.id};sid=${user.sid}`).execute();
        expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
        expect(pending!.last_error).toContain('503');
        receiver.answer(200);
        await server().app.core.db.updateTable('deliveries').set({ next_attempt_at: 0 }).where('id', '=', pending!.id).execute();
        const tokens = await deliveredFor(user.id);
        expect(tokens).toHaveLength(1);
        expect(tokens[0]!.payload.jti).toBe(pending!.id);
      } finally {
        receiver.answer(200);
      }
    });

    it('a 400 from the application is final: the delivery is dead-lettered after one attempt, and audited', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      receiver.answer(400);
      try {
        expect((await server().admin.patch(`/api/v1/users/${user.id}`, { password: NEW_PASSWORD })).status).toBe(200);
        expect(await deliveredFor(user.id)).toEqual([]);
      } finally {
        receiver.answer(200);
      }
      const row = await server().app.core.db.selectFrom('deliveries').select(['id', 'status', 'attempts']).where('target', '=', `application:${app.id};sid=${user.sid}`).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'dead', attempts: 1 });
      const audited = await server().app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'delivery.dead_lettered').where('target_id', '=', row.id).executeTakeFirstOrThrow();
      expect(JSON.parse(audited.data)).toMatchObject({ channel: 'backchannel_logout', event_type: 'signal.sessions_ended' });
    });

    it('a sign-out racing a disable of the same user: the session ends once, one logout token', async () => {
      const app = await logoutApp();
      const user = await signedIn(app);
      const portal = new ApiClient(server().url);
      expect((await portal.signIn(user.email, PASSWORD)).status).toBe(200);
      const [signOut, disable] = await Promise.all([portal.delete('/api/v1/session'), server().admin.patch(`/api/v1/users/${user.id}`, { disabled: true })]);
      expect(disable.status).toBe(200);
      // The sign-out finds its portal session gone when the disable commits first.
      expect([204, 401]).toContain(signOut.status);
      await expectOneLogout(app, user);
      // Both paths record their signals; the session's pair is in exactly one of them.
      const ended = (await signalsOf(user.id)).filter((p) => p.type === 'signal.sessions_ended');
      expect(ended.flatMap((p) => p.sessions)).toEqual([{ client_id: app.id, sid: user.sid }]);
    });

    it('concurrent disables of three users: each of their sessions gets its own token', async () => {
      const app = await logoutApp();
      const users = await Promise.all([signedIn(app), signedIn(app), signedIn(app)]);
      const results = await Promise.all(users.map((u) => server().admin.patch(`/api/v1/users/${u.id}`, { disabled: true })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      await server().app.runWorkerOnce();
      for (const u of users) {
        const tokens = receiver.received.filter((r) => r.payload.sub === u.id);
        expect(tokens.map((t) => t.payload.sid)).toEqual([u.sid]);
      }
      expect(receiver.refused).toEqual([]);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
