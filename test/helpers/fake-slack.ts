import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for Slack: the Web API methods Interim calls (chat.postMessage,
 * chat.update, chat.postEphemeral) under /api, and response_url receivers under /response.
 * Each request's shape is checked against Slack's documented API (method path, Bearer bot
 * token, JSON content type, required fields, Block Kit limits); anything off is recorded in
 * `violations`, which a test expects to stay empty, and answered as Slack would.
 */
export interface FakeSlackCall {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  /** What the fake answered. */
  answer?: Record<string, unknown>;
}

export const BOT_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const TEAM = { id: 'T0AAAAAAA', domain: 'acme-ops' };

type Block = Record<string, unknown>;

const TEXT_LIMIT = { section: 3000, header: 150, button: 75, value: 2000, action_id: 255, block_id: 255 };

/** Block Kit checks for the blocks Interim sends (https://api.slack.com/reference/block-kit/blocks). */
export function blockProblems(blocks: unknown): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  if (blocks.length > 50) problems.push('more than 50 blocks');
  const ids = new Set<string>();
  const text = (t: unknown, where: string, max: number, kinds: string[]) => {
    const o = t as { type?: string; text?: unknown } | undefined;
    if (!o || !kinds.includes(o.type ?? '') || typeof o.text !== 'string' || o.text.length === 0 || o.text.length > max) problems.push(`${where}: text object of ${kinds.join('/')} with 1..${max} characters`);
  };
  for (const [i, raw] of blocks.entries()) {
    const b = raw as Block;
    const at = `blocks[${i}]`;
    if (typeof b.block_id === 'string') {
      if (ids.has(b.block_id) || b.block_id.length > TEXT_LIMIT.block_id) problems.push(`${at}: block_id repeated or too long`);
      ids.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        text(b.text, at, TEXT_LIMIT.header, ['plain_text']);
        break;
      case 'section':
        if (b.text === undefined && b.fields === undefined) problems.push(`${at}: section needs text or fields`);
        if (b.text !== undefined) text(b.text, at, TEXT_LIMIT.section, ['mrkdwn', 'plain_text']);
        if (Array.isArray(b.fields)) {
          if (b.fields.length > 10) problems.push(`${at}: more than 10 fields`);
          for (const f of b.fields) text(f, `${at}.fields`, 2000, ['mrkdwn', 'plain_text']);
        }
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) problems.push(`${at}: context needs 1..10 elements`);
        break;
      case 'actions': {
        const elements = b.elements as Block[] | undefined;
        if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) {
          problems.push(`${at}: actions needs 1..25 elements`);
          break;
        }
        const actionIds = new Set<string>();
        for (const e of elements) {
          if (e.type !== 'button') problems.push(`${at}: only buttons expected`);
          text(e.text, `${at}.button`, TEXT_LIMIT.button, ['plain_text']);
          if (typeof e.action_id !== 'string' || e.action_id.length > TEXT_LIMIT.action_id || actionIds.has(e.action_id)) problems.push(`${at}: action_id missing, too long or repeated`);
          actionIds.add(String(e.action_id));
          if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > TEXT_LIMIT.value)) problems.push(`${at}: value too long`);
          if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') problems.push(`${at}: style must be primary or danger`);
          if (e.url === undefined && e.value === undefined) problems.push(`${at}: a button needs a url or a value`);
        }
        break;
      }
      default:
        problems.push(`${at}: unexpected block type ${String(b.type)}`);
    }
  }
  return problems;
}

/** Required fields of each Web API method Interim uses (https://api.slack.com/methods). */
const REQUIRED: Record<string, string[]> = {
  'chat.postMessage': ['channel', 'text', 'blocks'],
  'chat.update': ['channel', 'ts', 'text', 'blocks'],
  'chat.postEphemeral': ['channel', 'user', 'text'],
};

export async function startFakeSlack(options: { token?: string } = {}) {
  const token = options.token ?? BOT_TOKEN;
  const calls: FakeSlackCall[] = [];
  const responses: { path: string; body: Record<string, unknown> }[] = [];
  const violations: string[] = [];
  const state = { rateLimitNext: 0, retryAfter: 7, errorNext: null as string | null, seq: 0 };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '';
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
      if (url.startsWith('/response/')) {
        if (req.method !== 'POST' || !/^application\/json/.test(req.headers['content-type'] ?? '')) violations.push(`response_url: ${req.method} with ${req.headers['content-type']}`);
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          violations.push('response_url: body is not JSON');
        }
        if (typeof body.text !== 'string' || body.text.length === 0) violations.push('response_url: text missing');
        if (body.blocks !== undefined) violations.push(...blockProblems(body.blocks).map((p) => `response_url: ${p}`));
        responses.push({ path: url, body });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const method = /^\/api\/([\w.]+)$/.exec(url)?.[1];
      if (req.method !== 'POST' || !method || !REQUIRED[method]) {
        violations.push(`unknown call ${req.method} ${url}`);
        reply(404, { ok: false, error: 'unknown_method' });
        return;
      }
      if (req.headers['content-type'] !== 'application/json; charset=utf-8') violations.push(`${method}: content-type ${req.headers['content-type']}`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        violations.push(`${method}: body is not JSON`);
        reply(200, { ok: false, error: 'invalid_json' });
        return;
      }
      calls.push({ method, headers: req.headers, body });
      if (req.headers.authorization !== `Bearer ${token}`) {
        reply(200, { ok: false, error: 'invalid_auth' });
        return;
      }
      for (const field of REQUIRED[method]!) if (body[field] === undefined || body[field] === '') violations.push(`${method}: ${field} missing`);
      if ('blocks' in body) violations.push(...blockProblems(body.blocks).map((p) => `${method}: ${p}`));
      if (state.rateLimitNext > 0) {
        state.rateLimitNext--;
        reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(state.retryAfter) });
        return;
      }
      if (state.errorNext) {
        const error = state.errorNext;
        state.errorNext = null;
        reply(200, { ok: false, error });
        return;
      }
      const ts = method === 'chat.update' ? String(body.ts) : `1700000000.${String(++state.seq).padStart(6, '0')}`;
      const answer = method === 'chat.postEphemeral' ? { ok: true, message_ts: ts } : { ok: true, channel: body.channel, ts, message: { text: body.text } };
      calls[calls.length - 1]!.answer = answer;
      reply(200, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let responseSeq = 0;
  return {
    apiUrl: `${url}/api`,
    calls,
    responses,
    violations,
    /** A fresh response_url for one interaction. */
    responseUrl: () => `${url}/response/${++responseSeq}`,
    rateLimit(times: number, retryAfter = 7) {
      state.rateLimitNext = times;
      state.retryAfter = retryAfter;
    },
    failNext(error: string) {
      state.errorNext = error;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type FakeSlack = Awaited<ReturnType<typeof startFakeSlack>>;

/** Slack's signature over a body at a timestamp (seconds), as Slack computes it. */
export function signSlack(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** A block_actions payload as Slack sends it when someone presses one of Interim's buttons. */
export function buttonPress(opts: { userId: string; username?: string; actionId: 'interim_approve' | 'interim_deny'; value: string; responseUrl: string; blocks?: Block[]; teamId?: string }) {
  const team = { id: opts.teamId ?? TEAM.id, domain: TEAM.domain };
  return {
    type: 'block_actions',
    team,
    user: { id: opts.userId, username: opts.username ?? opts.userId.toLowerCase(), name: opts.username ?? opts.userId.toLowerCase(), team_id: team.id },
    api_app_id: 'A0APPAPP',
    token: 'legacy-verification-token-not-used',
    trigger_id: '123.456.abc',
    container: { type: 'message', message_ts: '1700000000.000001', channel_id: 'C0CHANNEL', is_ephemeral: false },
    channel: { id: 'C0CHANNEL', name: 'access' },
    message: { type: 'message', ts: '1700000000.000001', text: 'Access requested', blocks: opts.blocks ?? [{ type: 'section', block_id: 'x', text: { type: 'mrkdwn', text: 'Access requested' } }] },
    response_url: opts.responseUrl,
    actions: [{ type: 'button', action_id: opts.actionId, block_id: 'interim_decision', value: opts.value, text: { type: 'plain_text', text: 'Approve' }, action_ts: '1700000001.000001' }],
  };
}

/** The form body Slack posts: one field, `payload`, holding the JSON. */
export const formOf = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** POSTs an interaction to the server, signed (or not) as given. */
export async function postInteraction(serverUrl: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${serverUrl}/api/v1/slack/interactions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** Headers of a correctly signed request at `timestampSec`. */
export const signedHeaders = (body: string, timestampSec: number, secret = SIGNING_SECRET) => ({
  'x-slack-request-timestamp': String(timestampSec),
  'x-slack-signature': signSlack(secret, timestampSec, body),
});
