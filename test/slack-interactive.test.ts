import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createGroup, createPerson, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { BOT_TOKEN, buttonPress, formOf, postInteraction, SIGNING_SECRET, signedHeaders, startFakeSlack, TEAM } from './helpers/fake-slack.ts';
import type { TestServer } from './helpers/server.ts';

const fake = await startFakeSlack();
afterAll(() => fake.close());

const nowSec = () => Math.floor(Date.now() / 1000);
const linkTokenIn = (text: unknown) => /\/slack\/link\/([A-Za-z0-9_-]+)/.exec(String(text))?.[1];

/** Presses a button as a Slack user: a correctly signed block_actions request; returns the answer and what response_url received. */
async function press(server: TestServer, opts: { userId: string; actionId: 'interim_approve' | 'interim_deny'; value: string; blocks?: Record<string, unknown>[] }) {
  const responseUrl = fake.responseUrl();
  const body = formOf(buttonPress({ ...opts, responseUrl }));
  const answer = await postInteraction(server.url, body, signedHeaders(body, nowSec()));
  const path = new URL(responseUrl).pathname;
  await vi.waitFor(() => expect(fake.responses.some((r) => r.path === path) || answer.status !== 200).toBe(true), { timeout: 5000 });
  return { answer, responses: fake.responses.filter((r) => r.path === path).map((r) => r.body) };
}

/** Links a Slack user to a person the way a person does it: press, follow the link signed in, confirm. */
async function link(server: TestServer, person: Person, slackUserId: string, value: string): Promise<void> {
  const { responses } = await press(server, { userId: slackUserId, actionId: 'interim_approve', value });
  const token = linkTokenIn(responses[0]?.text);
  expect(token, JSON.stringify(responses)).toBeTruthy();
  const confirmed = await person.client.post(`/api/v1/slack/link-tokens/${token}/confirm`);
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(201);
}

describeEachDialect(
  'Slack: interactive approvals',
  (server) => {
    let access: AccessSetup;
    let actionId: string;

    /** A new request, each on its own template (one open request per template and requester), its Slack message posted. */
    const submit = async (overrides: Record<string, unknown> = {}) => {
      const templateId = await access.template({ escalation_after_mins: null, escalation_group_id: null, ...overrides });
      const res = await access.requester.client.post('/api/v1/access-requests', validRequest(templateId, { justification: 'needs <!channel> & more' }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      await server().app.services.dispatcher.deliverDue();
      return res.body.id as string;
    };
    const statusOf = async (id: string) => (await access.requester.client.get(`/api/v1/access-requests/${id}`)).body.status as string;

    beforeAll(async () => {
      const s = server();
      const configured = await s.admin.request('PUT', '/api/v1/settings/slack', { bot_token: BOT_TOKEN, signing_secret: SIGNING_SECRET });
      expect(configured.status, JSON.stringify(configured.body)).toBe(200);
      access = await setUpAccess(s);
      const action = await s.admin.post('/api/v1/event-actions', { name: `slack app ${s.dialect}`, kind: 'slack_app', event_types: ['access_request.submitted', 'access_request.stage_approved'], template_id: null, config: { channel: 'C0CHANNEL' } });
      expect(action.status, JSON.stringify(action.body)).toBe(201);
      expect(action.body.config).toEqual({ channel: 'C0CHANNEL' });
      actionId = action.body.id;
      const first = await submit();
      await link(s, access.approver, 'UAPPROVER1', `${first}:1`);
      await link(s, access.secondApprover, 'UAPPROVER2', `${first}:1`);
      await link(s, access.outsider, 'UOUTSIDER1', `${first}:1`);
    });
    afterEach(() => {
      vi.useRealTimers();
      expect(fake.violations).toEqual([]);
    });

    it('posts a Block Kit message with Approve and Deny buttons through chat.postMessage with the bot token', async () => {
      const id = await submit();
      const call = fake.calls.findLast((c) => c.method === 'chat.postMessage')!;
      expect(call.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
      expect(call.body.channel).toBe('C0CHANNEL');
      expect(String(call.body.text)).toContain('requester');
      const json = JSON.stringify(call.body.blocks);
      expect(json).toContain('"action_id":"interim_approve"');
      expect(json).toContain('"action_id":"interim_deny"');
      expect(json).toContain(`"value":"${id}:1"`);
      expect(json).toContain('INC-1234'); // the reason
      expect(json).toContain('1 hour'); // the duration
      expect(json).toContain(`/requests/${id}`); // the portal link
      expect(json).toContain('&lt;!channel&gt;'); // user text cannot ping the channel
      expect(json).not.toContain('<!channel>');
    });

    it('a correctly signed Approve from a linked approver decides, audited via slack, and replaces the message for everyone', async () => {
      const id = await submit();
      const { answer, responses } = await press(server(), { userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:1`, blocks: [{ type: 'section', block_id: 'facts', text: { type: 'mrkdwn', text: 'Access requested' } }] });
      expect(answer).toEqual({ status: 200, body: { ok: true } });
      expect(await statusOf(id)).toBe('approved');
      expect(responses).toHaveLength(1);
      expect(responses[0]).toMatchObject({ replace_original: true });
      expect(String(responses[0]!.text)).toMatch(/Approved\* in Slack by <@UAPPROVER1>/);
      expect(JSON.stringify(responses[0]!.blocks)).not.toContain('interim_approve');
      const audit = await server().admin.get(`/api/v1/audit-events?action=access_request.decided_via_slack&limit=200`);
      const mine = audit.body.items.find((e: { target_id: string }) => e.target_id === id);
      expect(mine?.data).toMatchObject({ via: 'slack', decision: 'approve', team_id: TEAM.id, slack_user_id: 'UAPPROVER1' });
      expect(mine?.actor_id ?? mine?.actor?.id).toBe(access.approver.id);
    });

    it('a Deny decides too', async () => {
      const id = await submit();
      const { responses } = await press(server(), { userId: 'UAPPROVER2', actionId: 'interim_deny', value: `${id}:1` });
      expect(await statusOf(id)).toBe('denied');
      expect(String(responses[0]!.text)).toContain('Denied');
    });

    it('refuses wrong signatures, missing headers, stale or future timestamps and replays with a new timestamp (401, nothing decided)', async () => {
      const id = await submit();
      const body = formOf(buttonPress({ userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:1`, responseUrl: fake.responseUrl() }));
      const now = nowSec();
      const good = signedHeaders(body, now);
      const before = fake.responses.length;
      const attempts: Record<string, string>[] = [
        { ...good, 'x-slack-signature': good['x-slack-signature'].replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
        signedHeaders(body, now, 'another-signing-secret-0000'),
        { 'x-slack-request-timestamp': String(now) },
        { 'x-slack-signature': good['x-slack-signature'] },
        {},
        // Well past the 5 minutes either way (the exact bound is tested in slack-client.test.ts), so a slow machine cannot bring them back in.
        signedHeaders(body, now - 360),
        signedHeaders(body, now + 360),
        { ...good, 'x-slack-request-timestamp': String(now + 1) }, // the same body and signature, replayed with a new timestamp
        { ...good, 'x-slack-request-timestamp': `${now}.5` },
      ];
      for (const headers of attempts) {
        const answer = await postInteraction(server().url, body, headers);
        expect(answer.status, JSON.stringify(headers)).toBe(401);
      }
      // A body changed after signing.
      const tampered = await postInteraction(server().url, body.replace('interim_approve', 'interim_deny'), good);
      expect(tampered.status).toBe(401);
      expect(await statusOf(id)).toBe('pending');
      expect(fake.responses.length).toBe(before);
    });

    it('a signed request goes stale after 5 minutes of the injected clock', async () => {
      const id = await submit();
      const body = formOf(buttonPress({ userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:1`, responseUrl: fake.responseUrl() }));
      const headers = signedHeaders(body, nowSec());
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 5 * 60_000 + 2000);
      expect((await postInteraction(server().url, body, headers)).status).toBe(401);
      vi.setSystemTime(Date.now() - 2 * (5 * 60_000 + 2000));
      expect((await postInteraction(server().url, body, headers)).status).toBe(401);
      vi.useRealTimers();
      expect(await statusOf(id)).toBe('pending');
    });

    it('answers 400 for a signed body that is not an interaction payload', async () => {
      for (const [body, field] of [
        ['payload=not-json', 'payload'],
        [formOf({ type: 'block_actions', team: TEAM, user: { id: 'UAPPROVER1' }, actions: [{ action_id: 'interim_approve', value: 'x' }] }), 'response_url'],
      ] as const) {
        const answer = await postInteraction(server().url, body, signedHeaders(body, nowSec()));
        expect(answer.status).toBe(400);
        expect(JSON.stringify(answer.body)).toContain(field);
      }
    });

    it('an ineligible linked user is refused with an ephemeral message', async () => {
      const id = await submit();
      const { responses } = await press(server(), { userId: 'UOUTSIDER1', actionId: 'interim_approve', value: `${id}:1` });
      expect(responses[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(String(responses[0]!.text)).toMatch(/may not approve/);
      expect(await statusOf(id)).toBe('pending');
    });

    it('the requester, linked, cannot approve their own request from Slack', async () => {
      const id = await submit();
      await link(server(), access.requester, 'UREQUESTER', `${id}:1`);
      const { responses } = await press(server(), { userId: 'UREQUESTER', actionId: 'interim_approve', value: `${id}:1` });
      expect(String(responses[0]!.text)).toContain('your own request');
      expect(await statusOf(id)).toBe('pending');
    });

    it('two approvers pressing Approve at the same moment make one decision; the other is told it was already decided', async () => {
      const id = await submit();
      const [a, b] = await Promise.all([
        press(server(), { userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:1` }),
        press(server(), { userId: 'UAPPROVER2', actionId: 'interim_deny', value: `${id}:1` }),
      ]);
      const texts = [...a.responses, ...b.responses].map((r) => String(r.text));
      expect(texts.filter((t) => /already decided/.test(t))).toHaveLength(1);
      expect(texts.filter((t) => /(Approved|Denied)\* in Slack/.test(t))).toHaveLength(1);
      const status = await statusOf(id);
      expect(['approved', 'denied']).toContain(status);
      const audit = await server().admin.get(`/api/v1/audit-events?action=access_request.decided_via_slack&limit=200`);
      expect(audit.body.items.filter((e: { target_id: string }) => e.target_id === id)).toHaveLength(1);
    });

    it('a decision in the portal updates the Slack message through chat.update', async () => {
      const id = await submit();
      const posted = fake.calls.findLast((c) => c.method === 'chat.postMessage' && JSON.stringify(c.body.blocks).includes(`${id}:1`))!;
      expect(posted.answer?.ts).toMatch(/^1700000000\.\d{6}$/);
      const approved = await access.approver.client.post(`/api/v1/access-requests/${id}/approve`, { comment: 'ok' });
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      await server().app.services.dispatcher.deliverDue();
      const update = fake.calls.findLast((c) => c.method === 'chat.update' && c.body.ts === posted.answer!.ts)!;
      expect(update.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
      expect(update.body.channel).toBe('C0CHANNEL');
      expect(update.body.ts).toBe(posted.answer!.ts);
      expect(JSON.stringify(update.body.blocks)).toContain('Approved');
      expect(JSON.stringify(update.body.blocks)).not.toContain('interim_approve');
      expect(JSON.stringify(update.body.blocks)).toContain(`/requests/${id}`);
    });

    it('a cancellation by the requester updates the message too', async () => {
      const id = await submit();
      expect((await access.requester.client.post(`/api/v1/access-requests/${id}/cancel`, {})).status).toBe(200);
      const updates = fake.calls.filter((c) => c.method === 'chat.update').length;
      await server().app.services.dispatcher.deliverDue();
      expect(fake.calls.filter((c) => c.method === 'chat.update').length).toBe(updates + 1);
      expect(JSON.stringify(fake.calls.findLast((c) => c.method === 'chat.update')!.body.blocks)).toContain('Cancelled');
    });

    it('when a step-up applies, the button never decides: it answers with a one-time link to the decision page', async () => {
      const id = await submit({ step_up_minutes: 5 });
      const { responses } = await press(server(), { userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:1` });
      expect(responses[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      const token = /\/decide\/([A-Za-z0-9_-]+)/.exec(String(responses[0]!.text))?.[1];
      expect(token, String(responses[0]!.text)).toBeTruthy();
      expect(await statusOf(id)).toBe('pending');
      // The link is the approver's, for exactly this decision, and reading it decides nothing.
      const link = await access.approver.client.get(`/api/v1/decision-links/${token}`);
      expect(link.status, JSON.stringify(link.body)).toBe(200);
      expect(link.body).toMatchObject({ decision: 'approve', stage: 1 });
      expect((await access.secondApprover.client.get(`/api/v1/decision-links/${token}`)).status).toBe(403);
      expect(await statusOf(id)).toBe('pending');
    });

    it('a button of an earlier stage no longer decides', async () => {
      const id = await submit();
      const { responses } = await press(server(), { userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:2` });
      expect(String(responses[0]!.text)).toContain('stage 2');
      expect(await statusOf(id)).toBe('pending');
    });

    it('stages: the stage 1 message is updated on the advance, stage 2 gets its own buttons', async () => {
      const s = server();
      const security = await createGroup(s, 'security', [access.escalationMember.id]);
      const created = await s.admin.post('/api/v1/access-request-templates', {
        name: `Staged ${s.dialect} ${Date.now()}`,
        app_id: access.appId,
        mapping_ids: [access.mappingId],
        allowed_durations: [60],
        require_justification: false,
        stages: [{ approver_group_ids: [access.approverGroupId] }, { approver_group_ids: [security] }],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const submitted = await access.requester.client.post('/api/v1/access-requests', { template_id: created.body.id, duration_mins: 60 });
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
      const id = submitted.body.id as string;
      await s.app.services.dispatcher.deliverDue();
      const first = fake.calls.findLast((c) => c.method === 'chat.postMessage')!;
      expect(JSON.stringify(first.body.blocks)).toContain(`"value":"${id}:1"`);

      const stage1 = await press(s, { userId: 'UAPPROVER1', actionId: 'interim_approve', value: `${id}:1` });
      expect(String(stage1.responses[0]!.text)).toMatch(/Stage 1 approved\* in Slack by <@UAPPROVER1>.*stage 2 decides next/);
      // The update and the new stage's message share an ordering key: one pass sends the first, the next the second.
      await s.app.services.dispatcher.deliverDue();
      await s.app.services.dispatcher.deliverDue();
      const update = fake.calls.findLast((c) => c.method === 'chat.update' && c.body.ts === first.answer!.ts)!;
      expect(JSON.stringify(update.body.blocks)).toContain('Stage 1 approved');
      const second = fake.calls.findLast((c) => c.method === 'chat.postMessage')!;
      expect(JSON.stringify(second.body.blocks)).toContain(`"value":"${id}:2"`);

      // A stage 1 approver cannot decide stage 2 from the old message, nor from the new one.
      expect(String((await press(s, { userId: 'UAPPROVER2', actionId: 'interim_approve', value: `${id}:1` })).responses[0]!.text)).toContain('now at stage 2');
      expect(String((await press(s, { userId: 'UAPPROVER2', actionId: 'interim_approve', value: `${id}:2` })).responses[0]!.text)).toContain('may not approve');
      await link(s, access.escalationMember, 'USECURITY1', `${id}:2`);
      const stage2 = await press(s, { userId: 'USECURITY1', actionId: 'interim_approve', value: `${id}:2` });
      expect(String(stage2.responses[0]!.text)).toMatch(/^:white_check_mark: \*Approved\* in Slack/);
      expect(await statusOf(id)).toBe('approved');
      await s.app.services.dispatcher.deliverDue();
      const finals = fake.calls.filter((c) => c.method === 'chat.update' && JSON.stringify(c.body.blocks).includes('*Approved* by') && JSON.stringify(c.body.blocks).includes(`/requests/${id}`));
      expect(finals.map((c) => c.body.ts).sort()).toEqual([first.answer!.ts, second.answer!.ts].sort());
    });

    it('a user who must still change the one-time password is refused', async () => {
      const id = await submit();
      const person = await createPerson(server(), 'fresh');
      await link(server(), person, 'UFRESH0001', `${id}:1`);
      expect((await server().admin.patch(`/api/v1/users/${person.id}`, { must_change_password: true })).status).toBe(200);
      const { responses } = await press(server(), { userId: 'UFRESH0001', actionId: 'interim_approve', value: `${id}:1` });
      expect(String(responses[0]!.text)).toContain('one-time password');
      expect(await statusOf(id)).toBe('pending');
    });

    it('a rate-limited post is a retryable delivery failure', async () => {
      fake.rateLimit(1, 9);
      const res = await access.requester.client.post('/api/v1/access-requests', validRequest(await access.template()));
      expect(res.status).toBe(201);
      await server().app.services.dispatcher.deliverDue();
      const list = await server().admin.get(`/api/v1/deliveries?request_id=${res.body.id}&channel=slack`);
      const delivery = list.body.items[0];
      expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
      expect(delivery.last_error).toContain('ratelimited');
      expect(delivery.last_error).toContain('9 s');
      expect(actionId).toBeTruthy();
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SLACK_API_URL: fake.apiUrl, INTERIM_REQUESTS_PER_MINUTE: '1000' },
);

describeEachDialect(
  'Slack: settings',
  (server) => {
    it('are admin-only (401, 403), write-only, validated (400 naming the field) and audited', async () => {
      const s = server();
      const anon = await fetch(`${s.url}/api/v1/settings/slack`);
      expect(anon.status).toBe(401);
      const access = await setUpAccess(s);
      expect((await access.approver.client.get('/api/v1/settings/slack')).status).toBe(403);
      expect((await access.approver.client.request('PUT', '/api/v1/settings/slack', { bot_token: BOT_TOKEN, signing_secret: SIGNING_SECRET })).status).toBe(403);
      expect((await s.admin.get('/api/v1/settings/slack')).body).toMatchObject({ configured: false, updated_at: null, interactivity_url: `${s.url}/api/v1/slack/interactions`, api_url: fake.apiUrl });
      const bad = await s.admin.request('PUT', '/api/v1/settings/slack', { bot_token: 'xoxp-user-token', signing_secret: SIGNING_SECRET });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('bot_token');
      const missing = await s.admin.request('PUT', '/api/v1/settings/slack', { bot_token: BOT_TOKEN });
      expect(missing.status).toBe(400);
      expect(JSON.stringify(missing.body)).toContain('signing_secret');
      const saved = await s.admin.request('PUT', '/api/v1/settings/slack', { bot_token: BOT_TOKEN, signing_secret: SIGNING_SECRET });
      expect(saved.status).toBe(200);
      expect(saved.body.configured).toBe(true);
      const read = await s.admin.get('/api/v1/settings/slack');
      expect(JSON.stringify(read.body)).not.toContain(BOT_TOKEN);
      expect(JSON.stringify(read.body)).not.toContain(SIGNING_SECRET);
      const audit = await s.admin.get('/api/v1/audit-events?action=slack.app_configured');
      expect(audit.body.items).toHaveLength(1);
      expect(JSON.stringify(audit.body)).not.toContain(BOT_TOKEN);
      // Unconfigured again: every interaction is unverifiable.
      expect((await s.admin.delete('/api/v1/settings/slack')).status).toBe(204);
      const body = formOf({ type: 'block_actions' });
      expect((await postInteraction(s.url, body, signedHeaders(body, nowSec()))).status).toBe(401);
    });

    it('an event action of kind slack_app needs a channel id (400 naming config.channel)', async () => {
      const res = await server().admin.post('/api/v1/event-actions', { name: 'bad', kind: 'slack_app', event_types: ['access_request.submitted'], config: { channel: '#general' } });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('config.channel');
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SLACK_API_URL: fake.apiUrl },
);
