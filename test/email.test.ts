import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { createMailer, escapeHtml, renderEmail, type EmailMessage } from '../src/modules/notifications/email.ts';
import type { Audience } from '../src/modules/notifications/event-text.ts';
import { ALL_TYPES, BASE_URL, HOSTILE, REQUEST_ID, hostilePayload, payloadFor } from './notifications-payloads.ts';

const LINK = `${BASE_URL}/requests/${REQUEST_ID}`;
const AUDIENCES: Audience[] = ['approver', 'requester', 'watcher'];

/** A minimal MIME reader: the decoded text of each part, by content type. */
function mimeParts(raw: string): Map<string, string> {
  const [head, ...rest] = raw.split(/\r\n\r\n/);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head!)?.[1];
  if (!boundary) throw new Error('not multipart');
  const parts = new Map<string, string>();
  for (const chunk of rest.join('\r\n\r\n').split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break;
    const split = chunk.indexOf('\r\n\r\n');
    const headers = chunk.slice(0, split);
    const body = chunk.slice(split + 4).replace(/\r\n$/, '');
    const type = /content-type:\s*([^;\r\n]+)/i.exec(headers)?.[1]?.toLowerCase() ?? 'text/plain';
    const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(headers)?.[1]?.toLowerCase() ?? '7bit';
    parts.set(type, decode(body, encoding));
  }
  return parts;
}

function decode(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => `%${h}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  }
  return body;
}

describe('renderEmail', () => {
  const cases = ALL_TYPES.flatMap((type) => AUDIENCES.map((audience) => [type, audience] as const));

  it.each(cases)('%s to %s: one-line subject, both bodies, the link', (type, audience) => {
    const mail = renderEmail(payloadFor(type), audience, BASE_URL);
    expect(mail.subject.length).toBeGreaterThan(10);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject.length).toBeLessThanOrEqual(200);
    expect(mail.text).toContain(LINK);
    expect(mail.html).toContain(`href="${LINK}"`);
    expect(mail.text).toContain('Prod DB');
    expect(mail.text).toContain('Production access');
    expect(mail.html).toContain('Prod DB');
    expect(mail.html).toMatch(/^<!doctype html>/);
  });

  const wording: [string, Audience, RegExp, RegExp][] = [
    // [type, audience, subject, text]
    ['access_request.submitted', 'approver', /^Access request needs your decision: Ada Lovelace, Production access$/, /Ada Lovelace \(ada@example\.test\) asks for 4 hours of access to Prod DB/],
    ['access_request.submitted', 'requester', /^Your access request was submitted: Production access$/, /You asked for 4 hours/],
    ['access_request.submitted', 'watcher', /^New access request: Ada Lovelace/, /asks for 4 hours/],
    ['access_request.escalated', 'approver', /^Escalated access request needs your decision/, /escalated to you/],
    ['access_request.escalated', 'requester', /^Your access request was escalated/, /escalation group/],
    ['access_request.approved', 'requester', /^Your access request was approved: Production access$/, /approved by Grace Hopper\. Access lasts until 2026-03-01 14:00 UTC/],
    ['access_request.denied', 'requester', /^Your access request was denied/, /Grace Hopper denied your request[\s\S]*Comment:\nUse the read replica instead/],
    ['access_request.cancelled', 'watcher', /^Access request withdrawn/, /withdrew their request/],
    ['access_request.revoked', 'requester', /^Your access was revoked/, /Root Admin ended your access to Prod DB \(Production access\) early[\s\S]*Reason:\nincident closed/],
    ['access_request.expired', 'requester', /^Your access has expired/, /has ended/],
    ['access_request.expiring_soon', 'requester', /^Your access expires soon/, /ends at 2026-03-01 14:00 UTC/],
    ['access_request.comment_added', 'requester', /^New comment on your access request/, /Grace Hopper commented on your request[\s\S]*Comment:\nWhich replica\?/],
    ['access_request.comment_added', 'approver', /^New comment on an access request/, /commented on Ada Lovelace \(ada@example\.test\)'s request/],
  ];
  it.each(wording)('%s to %s is worded for them', (type, audience, subject, text) => {
    const mail = renderEmail(payloadFor(type as (typeof ALL_TYPES)[number]), audience, BASE_URL);
    expect(mail.subject).toMatch(subject);
    expect(mail.text).toMatch(text);
  });

  it('asks approvers to decide only while the request is pending', () => {
    expect(renderEmail(payloadFor('access_request.submitted'), 'approver', BASE_URL).text).toContain(`Review and decide: ${LINK}`);
    expect(renderEmail(payloadFor('access_request.submitted'), 'requester', BASE_URL).text).toContain(`Open the request: ${LINK}`);
    const decided = payloadFor('access_request.submitted', { request: { status: 'approved' } });
    expect(renderEmail(decided, 'approver', BASE_URL).text).toContain(`Open the request: ${LINK}`);
  });

  it('says when approval was automatic', () => {
    const auto = payloadFor('access_request.approved', { data: { auto: true }, actor: { type: 'system', id: null, email: null, name: null } });
    expect(renderEmail(auto, 'requester', BASE_URL).text).toContain('was approved automatically');
  });

  it('shows the justification and custom field answers', () => {
    const mail = renderEmail(payloadFor('access_request.submitted'), 'approver', BASE_URL);
    expect(mail.text).toContain('Justification:\nINC-1234: replica lag in eu-west');
    expect(mail.text).toContain('ticket: INC-1234');
    expect(mail.text).toContain('read_only: yes');
    expect(mail.html).toContain('INC-1234: replica lag in eu-west');
  });

  it('escapes every piece of user text in the HTML', () => {
    for (const type of ALL_TYPES) {
      for (const audience of AUDIENCES) {
        const { html } = renderEmail(hostilePayload(type), audience, BASE_URL);
        expect(html).not.toMatch(/<script|<img|<b>|<i>|<a href="https:\/\/evil|onerror=alert\(1\)>|<key>|<value>|<!channel>/);
        // Only our own tags remain.
        const tags = new Set([...html.matchAll(/<\/?([a-z0-9!]+)/gi)].map((m) => m[1]!.toLowerCase()));
        for (const tag of tags) expect(['!doctype', 'html', 'head', 'meta', 'body', 'h2', 'p', 'table', 'tr', 'th', 'td', 'div', 'br', 'a']).toContain(tag);
      }
    }
    const { html, subject } = renderEmail(hostilePayload('access_request.comment_added'), 'approver', BASE_URL);
    expect(html).toContain(escapeHtml(HOSTILE.justification));
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(escapeHtml(HOSTILE.field));
    expect(html).toContain('&lt;/div&gt;&lt;script&gt;steal()&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;Mallory&lt;/b&gt;');
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toContain('Bcc: victim@example.test');
  });

  it('keeps line breaks of user text as <br> in HTML', () => {
    const { html } = renderEmail(payloadFor('access_request.submitted', { request: { justification: 'line 1\nline <2>' } }), 'approver', BASE_URL);
    expect(html).toContain('line 1<br>line &lt;2&gt;');
  });

  it('caps the subject at 200 characters', () => {
    const { subject } = renderEmail(payloadFor('access_request.submitted', { request: { template_name: 'x'.repeat(500) } }), 'approver', BASE_URL);
    expect(subject).toHaveLength(200);
    expect(subject.endsWith('…')).toBe(true);
  });

  it('builds the link from the base URL, with or without a trailing slash', () => {
    expect(renderEmail(payloadFor('access_request.submitted'), 'approver', `${BASE_URL}/`).text).toContain(LINK);
  });
});

interface Received {
  from: string;
  to: string[];
  raw: string;
  user?: string;
}

async function startSmtp(options: Partial<SMTPServerOptions>): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...options,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('createMailer against a real SMTP server on loopback', () => {
  let open: Awaited<ReturnType<typeof startSmtp>>;
  let authed: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => {
    open = await startSmtp({
      authOptional: true,
      onRcptTo(address, _session, callback) {
        if (address.address.endsWith('@refused.test')) return callback(new Error('mailbox unavailable'));
        callback();
      },
    });
    authed = await startSmtp({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === 's3cret:p@ss') return callback(null, { user: 'mailer' });
        callback(new Error('invalid credentials'));
      },
    });
  });
  afterAll(async () => {
    await open?.close();
    await authed?.close();
  });

  const hostileMail = (): EmailMessage => renderEmail(hostilePayload('access_request.submitted'), 'approver', BASE_URL);

  it('delivers text and HTML parts with the link and the hostile justification escaped', async () => {
    const mailer = createMailer({ url: `smtp://127.0.0.1:${open.port}`, from: 'Interim <interim@example.test>' });
    await mailer.send(['one@example.test', 'two@example.test'], hostileMail());
    mailer.close();
    const got = open.received.at(-1)!;
    expect(got.from).toBe('interim@example.test');
    expect(got.to).toEqual(['one@example.test', 'two@example.test']);
    expect(got.raw).toMatch(/^From: Interim <interim@example\.test>\r$/m);
    expect(got.raw).toMatch(/^Content-Type: multipart\/alternative/m);
    // The subject header is one line: the CR/LF in the template name smuggled no Bcc in.
    const header = got.raw.slice(0, got.raw.indexOf('\r\n\r\n'));
    expect(header).not.toMatch(/^Bcc:/im);
    expect(header).toMatch(/^Subject: =\?UTF-8\?Q\?Access_request_needs_your_decision/m);
    const parts = mimeParts(got.raw);
    expect([...parts.keys()].sort()).toEqual(['text/html', 'text/plain']);
    const text = parts.get('text/plain')!;
    const html = parts.get('text/html')!;
    expect(text).toContain(`Review and decide: ${BASE_URL}/requests/${REQUEST_ID}`);
    expect(html).toContain(`href="${BASE_URL}/requests/${REQUEST_ID}"`);
    expect(text).toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('authenticates with the credentials in the URL', async () => {
    const mailer = createMailer({ url: `smtp://mailer:${encodeURIComponent('s3cret:p@ss')}@127.0.0.1:${authed.port}`, from: 'interim@example.test' });
    await mailer.send(['approver@example.test'], renderEmail(payloadFor('access_request.approved'), 'requester', BASE_URL));
    mailer.close();
    expect(authed.received.at(-1)).toMatchObject({ to: ['approver@example.test'], user: 'mailer' });
    expect(authed.received.at(-1)!.raw).toMatch(/^Subject: Your access request was approved: Production access\r$/m);
  });

  it('fails on wrong credentials, a refused recipient or a dead server', async () => {
    const wrong = createMailer({ url: `smtp://mailer:nope@127.0.0.1:${authed.port}`, from: 'interim@example.test' });
    await expect(wrong.send(['a@example.test'], hostileMail())).rejects.toThrow(/invalid credentials|auth/i);
    wrong.close();
    const before = open.received.length;
    const refusing = createMailer({ url: `smtp://127.0.0.1:${open.port}`, from: 'interim@example.test' });
    await expect(refusing.send(['x@refused.test'], hostileMail())).rejects.toThrow(/mailbox unavailable|recipients/i);
    refusing.close();
    expect(open.received.length).toBe(before);
    const dead = await startSmtp({ authOptional: true });
    await dead.close();
    const nowhere = createMailer({ url: `smtp://127.0.0.1:${dead.port}`, from: 'interim@example.test' });
    await expect(nowhere.send(['a@example.test'], hostileMail())).rejects.toThrow();
    nowhere.close();
  });

  it('sends nothing to nobody', async () => {
    const before = open.received.length;
    const mailer = createMailer({ url: `smtp://127.0.0.1:${open.port}`, from: 'interim@example.test' });
    await mailer.send([], hostileMail());
    mailer.close();
    expect(open.received.length).toBe(before);
  });

  it('says smtp_not_configured when no SMTP URL is set', async () => {
    const mailer = createMailer({ url: undefined, from: 'interim@example.test' });
    await expect(mailer.send(['a@example.test'], hostileMail())).rejects.toMatchObject({ code: 'smtp_not_configured', message: expect.stringMatching(/^smtp_not_configured: .*INTERIM_SMTP_URL/) });
    mailer.close();
  });
});
