import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OutboundBlocked, safeFetch } from '../src/net/safe-fetch.ts';
import { APPROVE_ACTION, DENY_ACTION, askedStage, outcomeLine, parseDecisionValue, renderDecisionMessage, withOutcome } from '../src/modules/slack/blocks.ts';
import { verifySlackRequest } from '../src/modules/slack/signature.ts';
import { createSlackClient, SlackApiError } from '../src/modules/slack/slack-client.ts';
import { blockActionsPayload } from '../src/modules/slack/slack.types.ts';
import { blockProblems, BOT_TOKEN, signSlack, startFakeSlack } from './helpers/fake-slack.ts';
import { hostilePayload, payloadFor } from './notifications-payloads.ts';

const fake = await startFakeSlack();
afterAll(() => fake.close());
afterEach(() => expect(fake.violations).toEqual([]));

const outbound = { allowPrivate: true, timeoutMs: 5000, maxResponseBytes: 1024 * 1024 };
const client = createSlackClient({ apiUrl: fake.apiUrl, fetch: safeFetch, outbound });
const message = { channel: 'C0CHANNEL', text: 'Access requested', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hello' } }] };

describe('the Slack Web API client against a loopback Slack', () => {
  it('chat.postMessage: POST /chat.postMessage, Bearer bot token, JSON with channel, text and blocks; answers channel and ts', async () => {
    const posted = await client.postMessage(BOT_TOKEN, message);
    expect(posted).toEqual({ channel: 'C0CHANNEL', ts: expect.stringMatching(/^1700000000\.\d{6}$/) });
    const call = fake.calls.at(-1)!;
    expect(call.method).toBe('chat.postMessage');
    expect(call.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(call.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(call.body).toMatchObject({ channel: 'C0CHANNEL', text: 'Access requested', blocks: message.blocks });
  });

  it('chat.update names the message by channel and ts', async () => {
    const posted = await client.postMessage(BOT_TOKEN, message);
    expect(await client.update(BOT_TOKEN, { ...posted, text: 'Approved', blocks: message.blocks })).toEqual(posted);
    expect(fake.calls.at(-1)!.body).toMatchObject({ channel: posted.channel, ts: posted.ts, text: 'Approved' });
  });

  it('a rate limit (429 with Retry-After) is a retryable failure carrying the wait', async () => {
    fake.rateLimit(1, 12);
    const error = await client.postMessage(BOT_TOKEN, message).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackApiError);
    expect(error).toMatchObject({ code: 'ratelimited', retryable: true, retryAfterSeconds: 12 });
  });

  it("Slack's {ok: false} answers are failures by their error code; a refused token or channel is final", async () => {
    const badToken = await client.postMessage('xoxb-not-the-right-token-000', message).catch((e: unknown) => e);
    expect(badToken).toMatchObject({ code: 'invalid_auth', retryable: false });
    fake.failNext('channel_not_found');
    expect(await client.postMessage(BOT_TOKEN, message).catch((e: unknown) => e)).toMatchObject({ code: 'channel_not_found', retryable: false });
    fake.failNext('internal_error');
    expect(await client.postMessage(BOT_TOKEN, message).catch((e: unknown) => e)).toMatchObject({ code: 'internal_error', retryable: true });
  });

  it('answers a response_url with JSON and no token', async () => {
    const url = fake.responseUrl();
    await client.respond(url, { response_type: 'ephemeral', replace_original: false, text: 'only you' });
    const got = fake.responses.at(-1)!;
    expect(got.path).toBe(new URL(url).pathname);
    expect(got.body).toEqual({ response_type: 'ephemeral', replace_original: false, text: 'only you' });
  });

  it('goes through the SSRF-safe fetch: a loopback Slack is refused unless private addresses are allowed', async () => {
    const strict = createSlackClient({ apiUrl: fake.apiUrl, fetch: safeFetch, outbound: { ...outbound, allowPrivate: false } });
    await expect(strict.postMessage(BOT_TOKEN, message)).rejects.toBeInstanceOf(OutboundBlocked);
  });

  it("the fake checks shapes against Slack's documented API (and so catches a wrong request)", async () => {
    const res = await fetch(`${fake.apiUrl}/chat.update`, { method: 'POST', headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C1', text: 'x', blocks: [] }) });
    expect(res.status).toBe(200);
    expect(fake.violations.splice(0)).toEqual(['chat.update: content-type application/json', 'chat.update: ts missing']);
    expect(blockProblems([{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'x'.repeat(76) }, action_id: 'a' }] }])).toHaveLength(2);
  });
});

describe("Slack's request signature", () => {
  const secret = 'signing-secret-0123456789abcdef';
  const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
  const ts = 1_700_000_000;
  const nowMs = ts * 1000;
  const check = (over: Partial<Parameters<typeof verifySlackRequest>[0]>) => verifySlackRequest({ signingSecret: secret, timestamp: String(ts), signature: signSlack(secret, ts, body), rawBody: body, nowMs, ...over });

  it.each([
    ['a correct signature', {}, { ok: true }],
    ['no timestamp', { timestamp: undefined }, { ok: false, reason: 'missing_headers' }],
    ['no signature', { signature: undefined }, { ok: false, reason: 'missing_headers' }],
    ['a timestamp that is not whole seconds', { timestamp: `${ts}.0` }, { ok: false, reason: 'bad_timestamp' }],
    ['300 s old', { nowMs: nowMs + 300_000 }, { ok: true }],
    ['301 s old', { nowMs: nowMs + 301_000 }, { ok: false, reason: 'stale_timestamp' }],
    ['301 s ahead', { nowMs: nowMs - 301_000 }, { ok: false, reason: 'stale_timestamp' }],
    ['another secret', { signingSecret: 'another-secret-0000000000000' }, { ok: false, reason: 'bad_signature' }],
    ['another body', { rawBody: `${body}x` }, { ok: false, reason: 'bad_signature' }],
    ['the signature of another timestamp', { timestamp: String(ts + 1) }, { ok: false, reason: 'bad_signature' }],
    ['a v1 signature', { signature: signSlack(secret, ts, body).replace('v0=', 'v1=') }, { ok: false, reason: 'bad_signature' }],
  ] as const)('%s', (_name, over, verdict) => {
    expect(check(over)).toEqual(verdict);
  });
});

describe('the interaction payload Interim reads', () => {
  const base = { type: 'block_actions', user: { id: 'U1', team_id: 'T1' }, response_url: 'https://hooks.slack.com/actions/T1/1/x', actions: [{ action_id: 'interim_approve', value: 'v' }] };
  it('takes the workspace from team, or from user.team_id when an Enterprise Grid install sends team: null', () => {
    expect(blockActionsPayload.safeParse({ ...base, team: { id: 'T1', domain: 'acme' } }).success).toBe(true);
    expect(blockActionsPayload.safeParse({ ...base, team: null }).success).toBe(true);
    const neither = blockActionsPayload.safeParse({ ...base, team: null, user: { id: 'U1' } });
    expect(neither.success).toBe(false);
    expect(neither.error?.issues[0]?.path).toEqual(['team']);
    expect(blockActionsPayload.safeParse({ ...base, user: { id: '<@U1>', team_id: 'T1' } }).success).toBe(false);
  });
});

describe('decision messages', () => {
  const submitted = payloadFor('access_request.submitted');

  it('carry Approve and Deny buttons bound to the request and stage, and keep the portal link', () => {
    const { text, blocks } = renderDecisionMessage(submitted, 'https://id.example.com', 1);
    expect(text.length).toBeGreaterThan(0);
    expect(blockProblems(blocks)).toEqual([]);
    const actions = blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value?: string; url?: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([APPROVE_ACTION, DENY_ACTION, 'open_request']);
    expect(actions.elements[0]!.value).toBe(`${submitted.request.id}:1`);
    expect(actions.elements[2]!.url).toContain(`/requests/${submitted.request.id}`);
  });

  it('escape user text', () => {
    const { blocks } = renderDecisionMessage(hostilePayload('access_request.submitted'), 'https://id.example.com', 1);
    expect(JSON.stringify(blocks)).not.toContain('<!channel>');
  });

  it('lose their buttons and gain the outcome', () => {
    const { blocks } = renderDecisionMessage(submitted, 'https://id.example.com', 1);
    const after = withOutcome(blocks, 'Approved by Ada');
    expect(JSON.stringify(after)).not.toContain(APPROVE_ACTION);
    expect(JSON.stringify(after.at(-1))).toContain('Approved by Ada');
    expect(blockProblems(after)).toEqual([]);
  });

  it('say who decided and when', () => {
    const approved = payloadFor('access_request.approved');
    expect(outcomeLine(approved)).toMatch(/^:white_check_mark: \*Approved\* by .+, <!date\^\d+\^\{date_short_pretty\} at \{time\}\|.+ UTC>$/);
    expect(outcomeLine({ ...approved, type: 'access_request.expired' })).toMatch(/^\*Expired\*/);
  });

  it('parse button values and stages strictly', () => {
    expect(parseDecisionValue(`${submitted.request.id}:2`)).toEqual({ requestId: submitted.request.id, stage: 2 });
    for (const bad of ['', 'x:1', `${submitted.request.id}`, `${submitted.request.id}:-1`, `${submitted.request.id}:1:2`]) expect(parseDecisionValue(bad)).toBeNull();
    expect(askedStage(submitted)).toBe(1);
    expect(askedStage({ type: 'access_request.stage_approved', data: { stage: 1, next_stage: 2 } })).toBe(2);
    expect(askedStage({ type: 'access_request.approved', data: {} })).toBeNull();
  });
});
