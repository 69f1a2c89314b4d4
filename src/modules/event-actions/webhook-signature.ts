import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}`, keyed with the bytes of a `whsec_<base64>` secret, sent as
 * `webhook-signature: v1,<base64>`. We sign with it; receivers (and our tests) verify with it.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const GENERATED_SECRET_BYTES = 32;
const SIGNATURE_VERSION = 'v1';
const DEFAULT_TOLERANCE_SECS = 300;

/** A type alias, not an interface, so it passes where a plain header record is expected. */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** A fresh signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(GENERATED_SECRET_BYTES).toString('base64');
}

/** The key bytes of a well-formed secret, or undefined. Strict base64, 24 to 64 bytes, as the spec asks. */
function secretKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  // Node's decoder is lenient; re-encoding catches a truncated or padded-wrong value.
  if (key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) return undefined;
  return key.length >= MIN_SECRET_BYTES && key.length <= MAX_SECRET_BYTES ? key : undefined;
}

export function isWebhookSecret(secret: string): boolean {
  return secretKey(secret) !== undefined;
}

function hmac(key: Buffer, msgId: string, timestampSecs: number, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${msgId}.${timestampSecs}.`).update(body).digest();
}

function requireKey(secret: string): Buffer {
  const key = secretKey(secret);
  if (!key) throw new Error('not a webhook signing secret (expected whsec_ followed by 24 to 64 bytes in base64)');
  return key;
}

/** `v1,<base64 HMAC-SHA256>` of `${msgId}.${timestampSecs}.${body}`. Sign exactly the bytes you send. */
export function signWebhook(secret: string, msgId: string, timestampSecs: number, body: string | Buffer): string {
  return `${SIGNATURE_VERSION},${hmac(requireKey(secret), msgId, timestampSecs, body).toString('base64')}`;
}

/** The three headers of a signed delivery. `msgId` is the stable event id, so retries carry the same one. */
export function webhookHeaders(secret: string, msgId: string, timestampSecs: number, body: string | Buffer): WebhookHeaders {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSecs),
    'webhook-signature': signWebhook(secret, msgId, timestampSecs, body),
  };
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  // A repeated header is ambiguous: refuse rather than pick one.
  return typeof value === 'string' ? value : undefined;
}

/**
 * True when the body carries a valid signature from `secret` and its timestamp lies within
 * `toleranceSecs` of `nowSecs` (either way: a replayed old message and one from the future
 * both fail). The signature header may list several space-separated signatures (the
 * sender may sign with more than one secret while rotating); one valid `v1` is enough.
 * Pass the raw body bytes exactly as received, before any JSON parsing.
 */
export function verifyWebhook(secret: string, headers: HeaderSource, body: string | Buffer, nowSecs: number, toleranceSecs = DEFAULT_TOLERANCE_SECS): boolean {
  const key = secretKey(secret);
  const msgId = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!key || !msgId || !timestamp || !signatures || !/^\d{1,15}$/.test(timestamp)) return false;
  const timestampSecs = Number(timestamp);
  if (Math.abs(nowSecs - timestampSecs) > toleranceSecs) return false;

  const expected = hmac(key, msgId, timestampSecs, body);
  let valid = false;
  for (const candidate of signatures.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== SIGNATURE_VERSION) continue;
    const given = Buffer.from(candidate.slice(comma + 1), 'base64');
    // timingSafeEqual needs equal lengths; the length of a signature is no secret.
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}
