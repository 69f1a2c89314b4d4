import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  escapeMrkdwn,
  escapeMrkdwnWithin,
  renderSlackMessage,
  sendSlack,
  SLACK_LIMITS,
  SlackDeliveryError,
  type JsonPost,
  type SlackBlock,
  type SlackMessage,
} from '../src/modules/notifications/slack.ts';
import { ALL_TYPES, BASE_URL, HOSTILE, REQUEST_ID, hostilePayload, payloadFor } from './notifications-payloads.ts';

const LINK = `${BASE_URL}/requests/${REQUEST_ID}`;

/** Every mrkdwn text object in a message, the fallback text included. */
function mrkdwnTexts(message: SlackMessage): string[] {
  const out = [message.text];
  for (const b of message.blocks) {
    if (b.type === 'section') {
      if (b.text) out.push(b.text.text);
      for (const f of b.fields ?? []) out.push(f.text);
    }
    if (b.type === 'context') out.push(...b.elements.map((e) => e.text));
  }
  return out;
}

const sections = (m: SlackMessage) => m.blocks.filter((b): b is Extract<SlackBlock, { type: 'section' }> => b.type === 'section');
const button = (m: SlackMessage) => m.blocks.find((b): b is Extract<SlackBlock, { type: 'actions' }> => b.type === 'actions')?.elements[0];

describe('escapeMrkdwn', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['a & b', 'a &amp; b'],
    ['<!channel>', '&lt;!channel&gt;'],
    ['<https://evil|click>', '&lt;https://evil|click&gt;'],
    ['<@U123> <#C1>', '&lt;@U123&gt; &lt;#C1&gt;'],
    ['&amp;', '&amp;amp;'],
    ['*bold* _it_ `code`', '*bold* _it_ `code`'],
  ];
  it.each(cases)('%j → %j', (input, output) => {
    expect(escapeMrkdwn(input)).toBe(output);
    expect(escapeMrkdwnWithin(input, 3000)).toBe(output);
  });

  it('cuts between whole entities and characters, within the limit', () => {
    expect(escapeMrkdwnWithin('abcdef', 4)).toBe('abc…');
    // "a&" would need 6 characters; the entity is not split.
    expect(escapeMrkdwnWithin('a&&&&&', 6)).toBe('a…');
    expect(escapeMrkdwnWithin('a&&&&&', 7)).toBe('a&amp;…');
    expect(escapeMrkdwnWithin('&&&&', 11)).toBe('&amp;&amp;…');
    expect(escapeMrkdwnWithin('x'.repeat(10), 10)).toBe('x'.repeat(10));
    const emoji = '😀'.repeat(10);
    const cut = escapeMrkdwnWithin(emoji, 6);
    expect(cut).toBe('😀😀…');
  });
});

describe('renderSlackMessage', () => {
  it.each(ALL_TYPES)('%s: header, fields, context and a button to the request', (type) => {
    const m = renderSlackMessage(payloadFor(type), BASE_URL);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    const header = m.blocks[0] as Extract<SlackBlock, { type: 'header' }>;
    expect(header.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.header);
    const facts = sections(m).find((s) => s.fields)!.fields!.map((f) => f.text);
    expect(facts).toEqual(expect.arrayContaining(['*Requester*\nAda Lovelace (ada@example.test)', '*Application*\nProd DB', '*Duration*\n4 hours']));
    expect(mrkdwnTexts(m).join('\n')).toContain('*Justification*\nINC-1234: replica lag in eu-west');
    expect(mrkdwnTexts(m)).toEqual(expect.arrayContaining(['*ticket*\nINC-1234', '*read_only*\nyes']));
    expect(m.blocks.some((b) => b.type === 'context')).toBe(true);
    expect(button(m)).toMatchObject({ type: 'button', url: LINK });
    expect(m.text.length).toBeGreaterThan(10);
    for (const b of m.blocks) if (b.type === 'section') for (const t of [b.text, ...(b.fields ?? [])]) if (t) expect(t.verbatim).toBe(true);
  });

  const wording: [(typeof ALL_TYPES)[number], RegExp, string, boolean][] = [
    ['access_request.submitted', /^Access request needs your decision: Ada Lovelace, Production access$/, 'Review and decide', true],
    ['access_request.escalated', /^Escalated access request needs your decision/, 'Review and decide', true],
    ['access_request.approved', /^Access request approved/, 'Open request', false],
    ['access_request.denied', /^Access request denied/, 'Open request', false],
    ['access_request.revoked', /^Access revoked/, 'Open request', false],
    ['access_request.expired', /^Temporary access expired/, 'Open request', false],
    ['access_request.comment_added', /^New comment on an access request/, 'Open request', false],
  ];
  it.each(wording)('%s reads %s with a "%s" button', (type, text, label, primary) => {
    const m = renderSlackMessage(payloadFor(type), BASE_URL);
    expect(m.text).toMatch(text);
    expect(button(m)?.text.text).toBe(label);
    expect(button(m)?.style === 'primary').toBe(primary);
  });

  it('shows the event extras: decision comment, revoke reason, comment body', () => {
    expect(mrkdwnTexts(renderSlackMessage(payloadFor('access_request.denied'), BASE_URL))).toContain('*Comment*\nUse the read replica instead');
    expect(mrkdwnTexts(renderSlackMessage(payloadFor('access_request.revoked'), BASE_URL))).toContain('*Reason*\nincident closed');
    expect(mrkdwnTexts(renderSlackMessage(payloadFor('access_request.comment_added'), BASE_URL))).toContain('*Comment*\nWhich replica?');
  });

  it('escapes user text so nothing pings, links or formats as Slack syntax', () => {
    for (const type of ALL_TYPES) {
      const m = renderSlackMessage(hostilePayload(type), BASE_URL);
      for (const text of mrkdwnTexts(m)) expect(text).not.toMatch(/[<>]/);
      const all = mrkdwnTexts(m).join('\n');
      expect(all).toContain('&lt;b&gt;Mallory&lt;/b&gt; &lt;!here&gt;');
      expect(all).toContain('App &amp; &lt;i&gt;Co&lt;/i&gt;');
      // The header never carries user text.
      expect(JSON.stringify(m.blocks[0])).not.toContain('Mallory');
    }
    const all = mrkdwnTexts(renderSlackMessage(hostilePayload('access_request.comment_added'), BASE_URL)).join('\n');
    expect(all).toContain(`*Justification*\n${escapeMrkdwn(HOSTILE.justification)}`);
    expect(all).toContain('&lt;!channel&gt;');
    expect(all).toContain('&lt;https://evil.example|click here&gt;');
    expect(all).toContain('&lt;@U123&gt; &lt;#C123&gt;');
    expect(all).toContain('*&lt;key&gt;*\n&lt;value&gt;');
    // Names are one line: a newline in a template name can't start a fake block quote or line.
    expect(all).not.toContain('\nBcc:');
  });

  it('keeps every text within Slack limits', () => {
    const long = `${'a&b<c>'.repeat(2000)}`;
    const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`field_${String(i).padStart(2, '0')}`, `v${i} ${'<x>'.repeat(900)}`]));
    const m = renderSlackMessage(
      payloadFor('access_request.comment_added', {
        request: { justification: long, template_name: long, fields, requester: { id: 'u', email: 'e@example.test', name: long } },
        data: { body: long },
      }),
      BASE_URL,
    );
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    let customShown = 0;
    for (const s of sections(m)) {
      if (s.text) expect(s.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
      expect((s.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
      for (const f of s.fields ?? []) {
        expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.field);
        if (f.text.startsWith('*field_')) customShown++;
      }
    }
    expect(customShown).toBe(50);
    const justification = sections(m).find((s) => s.text?.text.startsWith('*Justification*'))!.text!.text;
    expect(justification.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    expect(justification.length).toBeGreaterThan(SLACK_LIMITS.text - 10);
    expect(justification.endsWith('…')).toBe(true);
    // Cut between entities: whatever precedes the ellipsis is a complete escape or a plain character.
    expect(justification).not.toMatch(/&(a|am|amp|l|lt|g|gt)?…$/);
    for (const text of mrkdwnTexts(m)) expect(text).not.toMatch(/[<>]/);
  });

  it('builds the button URL from the base URL', () => {
    expect(button(renderSlackMessage(payloadFor('access_request.submitted'), `${BASE_URL}/`))?.url).toBe(LINK);
  });
});

describe('sendSlack against a real HTTP receiver on loopback', () => {
  interface Hit {
    path: string;
    contentType: string | undefined;
    body: string;
  }
  const hits: Hit[] = [];
  let server: Server;
  let base: string;
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      hits.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: await readBody(req) });
      const answers: Record<string, [number, string]> = {
        '/ok': [200, 'ok'],
        '/invalid': [400, 'invalid_blocks'],
        '/gone': [404, 'no_service'],
        '/huge': [500, `boom\r\n${'x'.repeat(5000)}`],
        '/redirect': [302, ''],
      };
      const [status, text] = answers[req.url ?? ''] ?? [500, 'unexpected'];
      if (status === 302) res.setHeader('location', `${base}/ok`);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A plain fetch-based post, as a stand-in for the SSRF-safe one the dispatcher passes. */
  const post: JsonPost = async (url, body) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  };
  const message = () => renderSlackMessage(hostilePayload(), BASE_URL);

  it('posts the Block Kit JSON and resolves on 2xx', async () => {
    await sendSlack(`${base}/ok`, message(), post);
    const hit = hits.at(-1)!;
    expect(hit.path).toBe('/ok');
    expect(hit.contentType).toBe('application/json');
    expect(JSON.parse(hit.body)).toEqual(message());
    expect(hit.body).not.toContain('<!channel>');
  });

  it.each([
    ['/invalid', /^slack_webhook_failed: HTTP 400: invalid_blocks$/],
    ['/gone', /^slack_webhook_failed: HTTP 404: no_service$/],
    ['/redirect', /^slack_webhook_failed: HTTP 302$/],
  ])('treats %s as a failure with the response text', async (path, error) => {
    const failure = await sendSlack(`${base}${path}`, message(), post).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SlackDeliveryError);
    expect((failure as SlackDeliveryError).message).toMatch(error);
    expect((failure as SlackDeliveryError).code).toBe('slack_webhook_failed');
  });

  it('bounds a long error text and keeps it on one line', async () => {
    const failure = (await sendSlack(`${base}/huge`, message(), post).catch((e: unknown) => e)) as SlackDeliveryError;
    expect(failure.status).toBe(500);
    expect(failure.message).toMatch(/^slack_webhook_failed: HTTP 500: boom x+$/);
    expect(failure.message.length).toBeLessThan(600);
  });

  it('passes on a failure of the HTTP function itself', async () => {
    const refusing: JsonPost = async () => {
      throw new Error('non_public_address');
    };
    await expect(sendSlack(`${base}/ok`, message(), refusing)).rejects.toThrow('non_public_address');
  });
});
