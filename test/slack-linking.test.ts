import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createPerson, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { BOT_TOKEN, buttonPress, formOf, postInteraction, SIGNING_SECRET, signedHeaders, startFakeSlack, TEAM } from './helpers/fake-slack.ts';
import type { TestServer } from './helpers/server.ts';

const fake = await startFakeSlack();
afterAll(() => fake.close());

const nowSec = () => Math.floor(Date.now() / 1000);

/** An unlinked Slack user presses a button; returns the link token from the ephemeral answer. */
async function linkTokenFor(server: TestServer, slackUserId: string, requestId: string, teamId = TEAM.id): Promise<{ token: string; answer: Record<string, unknown> }> {
  const responseUrl = fake.responseUrl();
  const path = new URL(responseUrl).pathname;
  const body = formOf(buttonPress({ userId: slackUserId, username: `handle-${slackUserId.toLowerCase()}`, actionId: 'interim_approve', value: `${requestId}:1`, responseUrl, teamId }));
  const res = await postInteraction(server.url, body, signedHeaders(body, nowSec()));
  expect(res.status).toBe(200);
  await vi.waitFor(() => expect(fake.responses.some((r) => r.path === path)).toBe(true), { timeout: 5000 });
  const answer = fake.responses.find((r) => r.path === path)!.body;
  const token = /\/slack\/link\/([A-Za-z0-9_-]+)/.exec(String(answer.text))?.[1];
  expect(token, JSON.stringify(answer)).toBeTruthy();
  return { token: token!, answer };
}

describeEachDialect(
  'Slack: linking a Slack user to an Interim user',
  (server) => {
    let access: AccessSetup;
    let requestId: string;

    beforeAll(async () => {
      const s = server();
      expect((await s.admin.request('PUT', '/api/v1/settings/slack', { bot_token: BOT_TOKEN, signing_secret: SIGNING_SECRET })).status).toBe(200);
      access = await setUpAccess(s);
      const submitted = await access.requester.client.post('/api/v1/access-requests', validRequest(access.templateId));
      expect(submitted.status).toBe(201);
      requestId = submitted.body.id;
    });
    afterEach(() => {
      vi.useRealTimers();
      expect(fake.violations).toEqual([]);
    });

    it('an unlinked user gets an ephemeral link (only they see it); the button decides nothing', async () => {
      const { answer } = await linkTokenFor(server(), 'ULINK0001', requestId);
      expect(answer).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(String(answer.text)).toContain(`${server().url}/slack/link/`);
      expect((await access.requester.client.get(`/api/v1/access-requests/${requestId}`)).body.status).toBe('pending');
    });

    it('the link page names the workspace and handle; reading it never spends the token; confirming needs the CSRF token', async () => {
      const { token } = await linkTokenFor(server(), 'ULINK0002', requestId);
      for (let i = 0; i < 3; i++) {
        const read = await access.approver.client.get(`/api/v1/slack/link-tokens/${token}`);
        expect(read.status).toBe(200);
        expect(read.body).toMatchObject({ team_id: TEAM.id, team_domain: TEAM.domain, slack_user_id: 'ULINK0002', slack_user_name: 'handle-ulink0002' });
      }
      // The session cookie without the CSRF header: refused.
      const noCsrf = await fetch(`${server().url}/api/v1/slack/link-tokens/${token}/confirm`, { method: 'POST', headers: { cookie: access.approver.client.cookieHeader } });
      expect(noCsrf.status).toBe(403);
      expect(((await noCsrf.json()) as { code: string }).code).toBe('csrf_failed');
      // An API token is not an Interim sign-in.
      const byToken = await server().admin.post(`/api/v1/slack/link-tokens/${token}/confirm`);
      expect(byToken.status).toBe(403);
      // Anonymous: 401.
      expect((await fetch(`${server().url}/api/v1/slack/link-tokens/${token}`)).status).toBe(401);
      expect((await fetch(`${server().url}/api/v1/slack/link-tokens/${token}/confirm`, { method: 'POST' })).status).toBe(401);

      const confirmed = await access.approver.client.post(`/api/v1/slack/link-tokens/${token}/confirm`);
      expect(confirmed.status).toBe(201);
      expect(confirmed.body).toMatchObject({ team_id: TEAM.id, slack_user_id: 'ULINK0002', slack_user_name: 'handle-ulink0002' });
      // Used once: gone for everyone.
      expect((await access.approver.client.post(`/api/v1/slack/link-tokens/${token}/confirm`)).status).toBe(404);
      expect((await access.approver.client.get(`/api/v1/slack/link-tokens/${token}`)).status).toBe(404);

      const audit = await server().admin.get('/api/v1/audit-events?action=slack.linked');
      expect(audit.body.items.some((e: { data: Record<string, unknown> }) => e.data.slack_user_id === 'ULINK0002')).toBe(true);
      const notices = await access.approver.client.get('/api/v1/notifications');
      expect(notices.body.items.some((n: { title: string; body: string }) => n.title === 'Slack account linked' && n.body.includes('@handle-ulink0002'))).toBe(true);
    });

    it('a token expires after 10 minutes of the injected clock', async () => {
      const { token } = await linkTokenFor(server(), 'ULINK0003', requestId);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 10 * 60_000 + 1000);
      expect((await access.secondApprover.client.get(`/api/v1/slack/link-tokens/${token}`)).status).toBe(404);
      const expired = await access.secondApprover.client.post(`/api/v1/slack/link-tokens/${token}/confirm`);
      expect(expired.status).toBe(404);
      expect(expired.body.code).toBe('link_token_invalid');
    });

    it('a token links only the Slack user it was made for', async () => {
      const person = await createPerson(server(), 'bound');
      const { token } = await linkTokenFor(server(), 'ULINK0004', requestId);
      expect((await person.client.post(`/api/v1/slack/link-tokens/${token}/confirm`)).status).toBe(201);
      const links = await person.client.get('/api/v1/me/slack-links');
      expect(links.body.items.map((l: { slack_user_id: string }) => l.slack_user_id)).toEqual(['ULINK0004']);
      // Another Slack user of the same workspace, or the same id in another workspace, is still unlinked.
      await linkTokenFor(server(), 'ULINK0005', requestId);
      await linkTokenFor(server(), 'ULINK0004', requestId, 'T0OTHERTEAM');
    });

    it('two confirmations of one token at the same moment make one link', async () => {
      const [a, b] = await Promise.all([createPerson(server(), 'race-a'), createPerson(server(), 'race-b')]);
      const { token } = await linkTokenFor(server(), 'ULINK0006', requestId);
      const results = await Promise.all([a, b, a, b].map((p) => p.client.post(`/api/v1/slack/link-tokens/${token}/confirm`)));
      expect(results.map((r) => r.status).sort()).toEqual([201, 404, 404, 404]);
      const counts = await Promise.all([a, b].map(async (p) => (await p.client.get('/api/v1/me/slack-links')).body.items.length));
      expect(counts.reduce((x, y) => x + y, 0)).toBe(1);
    });

    it('one link per Slack identity: linking it again is refused until the link is removed', async () => {
      const [first, second] = await Promise.all([createPerson(server(), 'first'), createPerson(server(), 'second')]);
      const one = await linkTokenFor(server(), 'ULINK0007', requestId);
      expect((await first.client.post(`/api/v1/slack/link-tokens/${one.token}/confirm`)).status).toBe(201);
      // One Interim user may link several Slack identities.
      const stale = await linkTokenFor(server(), 'ULINK0008', requestId);
      expect((await first.client.post(`/api/v1/slack/link-tokens/${stale.token}/confirm`)).status).toBe(201);
      const links = (await first.client.get('/api/v1/me/slack-links')).body.items as { id: string; slack_user_id: string }[];
      expect(links.map((l) => l.slack_user_id).sort()).toEqual(['ULINK0007', 'ULINK0008']);
      // Another user cannot remove it (404), the owner can.
      expect((await second.client.delete(`/api/v1/me/slack-links/${links[0]!.id}`)).status).toBe(404);
      expect((await first.client.delete(`/api/v1/me/slack-links/${links[0]!.id}`)).status).toBe(204);
      expect((await first.client.delete(`/api/v1/me/slack-links/${links[0]!.id}`)).status).toBe(404);
      expect((await first.client.get('/api/v1/me/slack-links')).body.items).toHaveLength(1);
      const audit = await server().admin.get('/api/v1/audit-events?action=slack.unlinked');
      expect(audit.body.items).toHaveLength(1);
      // Removed: the Slack user may be linked again, now to the second person.
      const again = await linkTokenFor(server(), links[0]!.slack_user_id, requestId);
      expect((await second.client.post(`/api/v1/slack/link-tokens/${again.token}/confirm`)).status).toBe(201);
    });

    it('a Slack identity already linked cannot take a second link (409)', async () => {
      const [first, second] = await Promise.all([createPerson(server(), 'dup-a'), createPerson(server(), 'dup-b')]);
      const t1 = await linkTokenFor(server(), 'ULINK0009', requestId);
      const t2 = await linkTokenFor(server(), 'ULINK0009', requestId);
      expect((await first.client.post(`/api/v1/slack/link-tokens/${t1.token}/confirm`)).status).toBe(201);
      const dup = await second.client.post(`/api/v1/slack/link-tokens/${t2.token}/confirm`);
      expect(dup.status).toBe(409);
      expect(dup.body.code).toBe('slack_identity_linked');
    });

    it('bad input is 400 naming the field; the links need a caller', async () => {
      const bad = await access.approver.client.get('/api/v1/slack/link-tokens/short');
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('token');
      const badId = await access.approver.client.delete('/api/v1/me/slack-links/not-a-uuid');
      expect(badId.status).toBe(400);
      expect(JSON.stringify(badId.body)).toContain('id');
      expect((await fetch(`${server().url}/api/v1/me/slack-links`)).status).toBe(401);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SLACK_API_URL: fake.apiUrl },
);
