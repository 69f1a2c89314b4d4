import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { startLogoutReceiver } from './helpers/logout-receiver.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { addMember, createGroup, createMapping, createUser, PASSWORD, type AppFixture } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import { EVENTS, PUSH, SSF_RESOURCE, SSF_RESOURCE_SERVER_ID, startSsfReceiver, type SsfReceiver } from './helpers/ssf.ts';

const logouts = await startLogoutReceiver();
afterAll(() => logouts.close());

const REQUESTS = '/api/v1/access-requests';
const ok = (res: { status: number; body: unknown }, status = 200) => expect(res.status, JSON.stringify(res.body)).toBe(status);

/**
 * Issue 13, "done when": for every way access can end, an application registered for it
 * hears of it, by back-channel logout and by SSF. One application, as a relying party would
 * set it up: a back-channel logout URI, and an SSF push stream created with its own
 * client-credentials token, to real loopback receivers that verify every logout token and
 * every SET against the JWKS. Each path starts from a user who is signed in to the
 * application (a real openid-client code flow) and followed by the stream, ends their
 * access one way, runs the worker, and checks what each receiver got for that user:
 * exactly the events DESIGN names for that path, once each.
 */
describeEachDialect(
  'signals end to end: every way access ends reaches the application',
  (server) => {
    let sets: SsfReceiver;
    let app: AppFixture;
    let rp: client.Configuration;
    let streamApi: ApiClient;
    let streamId: string;
    let templateId: string;
    let n = 0;

    beforeAll(async () => {
      const s = server();
      sets = await startSsfReceiver(s);
      logouts.expectIssuer(`${s.url}/oidc`);
      const created = await s.admin.post('/api/v1/applications', {
        name: 'signals e2e',
        redirect_uris: ['http://127.0.0.1:9/callback'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        first_party: true,
        backchannel_logout_session_required: true,
      });
      ok(created, 201);
      app = { id: created.body.id, secret: created.body.client_secret, redirectUri: 'http://127.0.0.1:9/callback' };
      ok(await s.admin.patch(`/api/v1/applications/${app.id}`, { backchannel_logout_uri: logouts.uriFor(app.id) }));
      // The application is a receiver too: allowed the built-in SSF resource, its own token makes the stream.
      const registry = await s.admin.get(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`);
      ok(await s.admin.patch(`/api/v1/resource-servers/${SSF_RESOURCE_SERVER_ID}`, { app_ids: [...(registry.body.app_ids as string[]), app.id] }));
      rp = await relyingParty(s, app);
      const token = (await client.clientCredentialsGrant(rp, { resource: SSF_RESOURCE, scope: 'ssf.manage' })).access_token;
      streamApi = new ApiClient(s.url).withToken(token);
      const stream = await streamApi.post('/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${sets.url}/events` }, format: 'iss_sub' });
      ok(stream, 201);
      streamId = stream.body.stream_id;

      const requesters = await createGroup(s, 'e2e-requesters');
      const grantGroup = await createGroup(s, 'e2e-template-holders');
      const mapping = await createMapping(s, app.id, 'role', 'on-call', [grantGroup]);
      const template = await s.admin.post('/api/v1/access-request-templates', {
        name: 'e2e on-call',
        app_id: app.id,
        mapping_ids: [mapping],
        allowed_durations: [60],
        approval: 'open',
        requester_group_ids: [requesters],
        auto_approve: true,
        require_justification: false,
      });
      ok(template, 201);
      templateId = template.body.id;
      // Every user of this file may request.
      requesterGroup = requesters;
    });
    afterAll(() => sets.close());
    afterEach(() => vi.useRealTimers());
    let requesterGroup = '';

    /** A user with a live grant of the template (auto-approved), signed in to the application, followed by the stream. */
    async function signedInWithGrant() {
      const s = server();
      const email = `e2e-${++n}@example.test`;
      const id = await createUser(s, email);
      await addMember(s, requesterGroup, id);
      const portal = new ApiClient(s.url);
      ok(await portal.signIn(email, PASSWORD));
      const submitted = await portal.post(REQUESTS, { template_id: templateId, duration_mins: 60 });
      ok(submitted, 201);
      expect(submitted.body.status).toBe('approved');
      return { ...(await signInAndFollow(id, email)), requestId: submitted.body.id as string, expiresAt: Date.parse(submitted.body.expires_at), portal };
    }

    /** A user whose claim comes from a group membership (no grant). */
    async function signedInWithMembership() {
      const s = server();
      const email = `e2e-${++n}@example.test`;
      const id = await createUser(s, email);
      const group = await createGroup(s, `e2e-members-${n}`);
      await addMember(s, group, id);
      const mapping = await createMapping(s, app.id, `team${n}`, 'blue', [group]);
      return { ...(await signInAndFollow(id, email)), group, mapping };
    }

    async function signInAndFollow(id: string, email: string) {
      const s = server();
      const { tokens } = await codeFlow(rp, new Browser(s.url), app, { email, password: PASSWORD });
      const sid = tokens.claims()!.sid as string;
      expect(sid).toBeTruthy();
      const added = await streamApi.post('/ssf/subjects/add', { stream_id: streamId, subject: { format: 'iss_sub', iss: `${s.url}/oidc`, sub: id } });
      expect(added.status).toBe(204);
      // Signing in and being added are no news: nothing has reached either receiver for this user yet.
      await s.app.runWorkerOnce();
      expect(setsFor(id)).toEqual([]);
      expect(logoutsFor(id)).toEqual([]);
      return { id, email, sid };
    }

    const setsFor = (userId: string) => sets.accepted.filter((set) => set.sub_id.sub === userId);
    const logoutsFor = (userId: string) => logouts.received.filter((l) => l.payload.sub === userId);

    /** Runs the worker, then checks what each receiver got for the user: these events once each, and the logout tokens. */
    async function expectHeard(user: { id: string; sid: string }, events: string[], logoutTokens: number) {
      await server().app.runWorkerOnce();
      expect(sets.problems).toEqual([]);
      expect(logouts.refused).toEqual([]);
      const heard = setsFor(user.id);
      expect(heard.map((set) => Object.keys(set.events)[0]).sort()).toEqual([...events].sort());
      for (const set of heard) expect(set.aud).toBe(app.id);
      const tokens = logoutsFor(user.id);
      expect(tokens).toHaveLength(logoutTokens);
      for (const token of tokens) expect(token.payload).toMatchObject({ aud: app.id, sid: user.sid });
      return heard;
    }
    const claimsOf = (heard: Awaited<ReturnType<typeof expectHeard>>) => heard.find((set) => EVENTS.claims in set.events)!.events[EVENTS.claims]!.claims;

    it('grant expiry (the worker): token-claims-change without the grant’s claim; no session ends', async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      const user = await signedInWithGrant();
      // The expiry task wakes when the next grant ends (this one: the only live grant so far).
      expect(Math.abs((await server().app.services.requests.msUntilNextExpiry())! - (user.expiresAt - Date.now()))).toBeLessThan(1000);
      vi.setSystemTime(user.expiresAt + 1000);
      const heard = await expectHeard(user, [EVENTS.claims], 0);
      expect(claimsOf(heard)).toEqual({});
    });

    it('revocation: token-claims-change and a logout token for the session in which the application is signed in', async () => {
      const user = await signedInWithGrant();
      ok(await server().admin.post(`${REQUESTS}/${user.requestId}/revoke`, { reason: 'no longer on call' }));
      expect(claimsOf(await expectHeard(user, [EVENTS.claims], 1))).toEqual({});
    });

    it('template retirement: the grants it backs end, as a revocation', async () => {
      const user = await signedInWithGrant();
      ok(await server().admin.patch(`/api/v1/access-request-templates/${templateId}`, { enabled: false }));
      try {
        await expectHeard(user, [EVENTS.claims], 1);
      } finally {
        ok(await server().admin.patch(`/api/v1/access-request-templates/${templateId}`, { enabled: true }));
      }
    });

    it('membership removal: token-claims-change without the group’s claim', async () => {
      const user = await signedInWithMembership();
      ok(await server().admin.request('DELETE', `/api/v1/groups/${user.group}/members/${user.id}`), 204);
      expect(claimsOf(await expectHeard(user, [EVENTS.claims], 0))).toEqual({});
    });

    it('group deletion: token-claims-change', async () => {
      const user = await signedInWithMembership();
      ok(await server().admin.request('DELETE', `/api/v1/groups/${user.group}`), 204);
      expect(claimsOf(await expectHeard(user, [EVENTS.claims], 0))).toEqual({});
    });

    it('mapping deletion: token-claims-change', async () => {
      const user = await signedInWithMembership();
      ok(await server().admin.request('DELETE', `/api/v1/mappings/${user.mapping}`), 204);
      expect(claimsOf(await expectHeard(user, [EVENTS.claims], 0))).toEqual({});
    });

    it('disable: account-disabled and session-revoked, and a logout token', async () => {
      const user = await signedInWithGrant();
      ok(await server().admin.patch(`/api/v1/users/${user.id}`, { disabled: true }));
      const heard = await expectHeard(user, [EVENTS.disabled, EVENTS.session], 1);
      expect(heard.find((set) => EVENTS.session in set.events)!.events[EVENTS.session]!.reason_admin).toBeTruthy();
    });

    it('password change by an administrator: credential-change and session-revoked, and a logout token', async () => {
      const user = await signedInWithGrant();
      ok(await server().admin.patch(`/api/v1/users/${user.id}`, { password: 'an entirely new long password' }));
      await expectHeard(user, [EVENTS.credential, EVENTS.session], 1);
    });

    it('deletion: account-purged (DESIGN: it says everything; the user is nobody’s subject after it), and a logout token', async () => {
      const user = await signedInWithGrant();
      ok(await server().admin.delete(`/api/v1/users/${user.id}`), 204);
      await expectHeard(user, [EVENTS.purged], 1);
    });

    it('sign-out: session-revoked and a logout token', async () => {
      const user = await signedInWithGrant();
      ok(await user.portal.delete('/api/v1/session'), 204);
      await expectHeard(user, [EVENTS.session], 1);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true' },
);
