import nodemailer from 'nodemailer';
import type { Config } from '../../config.ts';
import type { EventPayload } from '../event-payload/event-payload.types.ts';
import { clip, describeEvent, fieldFacts, requestFacts, eventLink, extendsFromNotice, singleLine, type Audience } from './event-text.ts';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

const MAX_SUBJECT_LENGTH = 200;
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in HTML text and in quoted attribute values. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** Escaped, with line breaks kept as <br>. */
const htmlLines = (text: string) => escapeHtml(text).replace(/\r\n|\r|\n/g, '<br>');

function subjectOf(payload: EventPayload, audience: Audience, headline: string): string {
  const r = payload.request;
  const about = audience === 'requester' ? r.template_name : `${r.requester.name.trim() || r.requester.email}, ${r.template_name}`;
  const line = singleLine(`${headline}: ${about}`);
  return clip(line, MAX_SUBJECT_LENGTH);
}

/**
 * The email for one event and one audience. Every piece of user text (names, template
 * and application names, justification, field answers, comments) is HTML-escaped in
 * the HTML part; the subject is one line so no header can be smuggled in.
 */
export function renderEmail(payload: EventPayload, audience: Audience, baseUrl: string): EmailMessage {
  const r = payload.request;
  const said = describeEvent(payload, audience);
  const link = eventLink(baseUrl, payload);
  const facts = requestFacts(payload);
  const fields = fieldFacts(payload);
  const action = said.decide ? 'Review and decide' : extendsFromNotice(payload) ? 'Extend your access' : 'Open the request';

  const textParts = [said.summary, ''];
  for (const f of facts) textParts.push(`${f.label}: ${f.value}`);
  if (r.justification) textParts.push('', 'Justification:', r.justification);
  if (fields.length) textParts.push('', 'Details:', ...fields.map((f) => `${f.label}: ${f.value}`));
  for (const e of said.extras) textParts.push('', `${e.label}:`, e.value);
  textParts.push('', `${action}: ${link}`, '', `Event ${payload.id}`);

  const row = (label: string, value: string) =>
    `<tr><th align="left" valign="top" style="padding:4px 12px 4px 0;color:#555;font-weight:600">${escapeHtml(label)}</th><td style="padding:4px 0">${htmlLines(value)}</td></tr>`;
  const block = (label: string, value: string) =>
    `<p style="margin:16px 0 4px;font-weight:600">${escapeHtml(label)}</p><div style="padding:8px 12px;background:#f5f5f5;border-radius:4px">${htmlLines(value)}</div>`;
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="color-scheme" content="light"></head>',
    '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222;line-height:1.45">',
    `<h2 style="margin:0 0 12px;font-size:18px">${escapeHtml(said.headline)}</h2>`,
    `<p style="margin:0 0 16px">${htmlLines(said.summary)}</p>`,
    `<table role="presentation" cellspacing="0" cellpadding="0">${facts.map((f) => row(f.label, f.value)).join('')}</table>`,
    r.justification ? block('Justification', r.justification) : '',
    fields.length ? `<p style="margin:16px 0 4px;font-weight:600">Details</p><table role="presentation" cellspacing="0" cellpadding="0">${fields.map((f) => row(f.label, f.value)).join('')}</table>` : '',
    ...said.extras.map((e) => block(e.label, e.value)),
    `<p style="margin:24px 0"><a href="${escapeHtml(link)}" style="background:#1f5fbf;color:#fff;padding:8px 16px;border-radius:4px;text-decoration:none">${escapeHtml(action)}</a></p>`,
    `<p style="color:#888;font-size:12px">${escapeHtml(link)}<br>Event ${escapeHtml(payload.id)}</p>`,
    '</body></html>',
  ].join('\n');

  return { subject: subjectOf(payload, audience, said.headline), text: textParts.join('\n'), html };
}

export class MailerError extends Error {
  readonly code: string;
  /** Retrying cannot help until an operator changes the configuration: the delivery dead-letters at once. */
  readonly permanent: boolean;
  constructor(code: string, detail: string, opts: { permanent?: boolean } = {}) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.permanent = opts.permanent ?? false;
  }
}

export interface Mailer {
  /** Sends one message to all the given addresses; rejects on any SMTP failure. */
  send(to: readonly string[], message: EmailMessage): Promise<void>;
  close(): void;
}

/** Each of connecting, the greeting and socket silence; also the base of an email delivery's lease. */
export const SMTP_TIMEOUT_MS = 15_000;

/**
 * An SMTP mailer from config (INTERIM_SMTP_URL, INTERIM_SMTP_FROM). Without a URL it
 * still exists, but send() throws a permanent `smtp_not_configured`, so an email
 * delivery dead-letters at once with that reason instead of vanishing or retrying.
 */
export function createMailer(smtp: Config['smtp']): Mailer {
  if (!smtp.url) {
    return {
      send: async () => {
        throw new MailerError('smtp_not_configured', 'set INTERIM_SMTP_URL to send email', { permanent: true });
      },
      close: () => undefined,
    };
  }
  // Timeouts keep a dead SMTP server from holding a delivery (and its lease) forever.
  const transport = nodemailer.createTransport(
    { url: smtp.url, connectionTimeout: SMTP_TIMEOUT_MS, greetingTimeout: SMTP_TIMEOUT_MS, socketTimeout: SMTP_TIMEOUT_MS },
    { from: smtp.from },
  );
  return {
    send: async (to, message) => {
      if (to.length === 0) return;
      await transport.sendMail({ to: [...to], subject: message.subject, text: message.text, html: message.html });
    },
    close: () => transport.close(),
  };
}
