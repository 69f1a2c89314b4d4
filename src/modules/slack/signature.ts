import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../security/tokens.ts';

/** Slack refuses requests older than this; so do we, both ways (a clock ahead is as suspect as one behind). */
export const MAX_SKEW_SECONDS = 5 * 60;

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' };

/** Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * Checks an interactivity request before anything of it is read (docs/slack.md): both
 * headers present, the timestamp whole seconds within five minutes of `nowMs`, and the
 * signature equal in constant time. The body is the raw bytes as received, never a re-encoding.
 */
export function verifySlackRequest(input: { signingSecret: string; timestamp: string | undefined; signature: string | undefined; rawBody: string; nowMs: number }): SignatureVerdict {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  if (Math.abs(input.nowMs / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale_timestamp' };
  if (!constantTimeEqual(signature, slackSignature(input.signingSecret, timestamp, input.rawBody))) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
