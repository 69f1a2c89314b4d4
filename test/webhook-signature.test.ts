import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, isWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from '../src/modules/event-actions/webhook-signature.ts';

/** What a receiver would compute by hand from the spec, with nothing of ours. */
function byHand(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
}

describe('Standard Webhooks signatures', () => {
  const now = 1_750_000_000;
  const id = '0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
  const body = JSON.stringify({ id, type: 'access_request.approved', data: { auto: true, note: 'ünïcødé' } });

  it('matches the published Standard Webhooks test vector', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const signature = signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs what a receiver computes by hand with node:crypto', () => {
    const secret = generateWebhookSecret();
    expect(signWebhook(secret, id, now, body)).toBe(byHand(secret, id, now, body));
    expect(signWebhook(secret, id, now, Buffer.from(body))).toBe(byHand(secret, id, now, body));
  });

  it('generates whsec_ secrets of 32 random bytes, never the same twice', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(isWebhookSecret(a)).toBe(true);
  });

  it('accepts secrets of 24 to 64 bytes in strict base64 and nothing else', () => {
    const of = (n: number) => 'whsec_' + randomBytes(n).toString('base64');
    expect(isWebhookSecret(of(24))).toBe(true);
    expect(isWebhookSecret(of(64))).toBe(true);
    expect(isWebhookSecret(of(23))).toBe(false);
    expect(isWebhookSecret(of(65))).toBe(false);
    expect(isWebhookSecret(randomBytes(32).toString('base64'))).toBe(false);
    expect(isWebhookSecret('whsec_' + Buffer.alloc(33, 0xfb).toString('base64url'))).toBe(false); // base64url alphabet: -_
    expect(isWebhookSecret('whsec_not base64 at all but long enough to pass a length check')).toBe(false);
    expect(() => signWebhook('whsec_short', id, now, body)).toThrow(/signing secret/);
  });

  it('round-trips: the headers it sends verify, as a Headers object or a plain Node header record', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders(secret, id, now, body);
    expect(headers).toEqual({ 'webhook-id': id, 'webhook-timestamp': String(now), 'webhook-signature': byHand(secret, id, now, body) });
    expect(verifyWebhook(secret, headers, body, now)).toBe(true);
    expect(verifyWebhook(secret, new Headers({ ...headers }), Buffer.from(body), now + 299)).toBe(true);
    expect(verifyWebhook(secret, { 'Webhook-Id': id, 'Webhook-Timestamp': String(now), 'Webhook-Signature': headers['webhook-signature'] }, body, now)).toBe(true);
  });

  it('fails on a tampered body, id or timestamp, or the wrong secret', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders(secret, id, now, body);
    expect(verifyWebhook(secret, headers, body.replace('approved', 'revoked'), now)).toBe(false);
    expect(verifyWebhook(secret, headers, body + ' ', now)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, 'webhook-id': id.replace(/.$/, 'c') }, body, now)).toBe(false);
    expect(verifyWebhook(secret, { ...headers, 'webhook-timestamp': String(now + 1) }, body, now)).toBe(false);
    expect(verifyWebhook(generateWebhookSecret(), headers, body, now)).toBe(false);
  });

  it('rejects stale and future timestamps even with a valid signature, within a configurable tolerance', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders(secret, id, now, body);
    expect(verifyWebhook(secret, headers, body, now + 300)).toBe(true);
    expect(verifyWebhook(secret, headers, body, now + 301)).toBe(false);
    expect(verifyWebhook(secret, headers, body, now - 301)).toBe(false);
    expect(verifyWebhook(secret, headers, body, now + 3600, 3600)).toBe(true);
    expect(verifyWebhook(secret, { ...headers, 'webhook-timestamp': `${now}.0` }, body, now)).toBe(false);
  });

  it('accepts any one valid v1 among several space-separated signatures, and ignores other versions', () => {
    const secret = generateWebhookSecret();
    const valid = signWebhook(secret, id, now, body);
    const other = signWebhook(generateWebhookSecret(), id, now, body);
    const base = { 'webhook-id': id, 'webhook-timestamp': String(now) };
    expect(verifyWebhook(secret, { ...base, 'webhook-signature': `${other} ${valid}` }, body, now)).toBe(true);
    expect(verifyWebhook(secret, { ...base, 'webhook-signature': `${valid} v1a,ZmFrZQ==` }, body, now)).toBe(true);
    expect(verifyWebhook(secret, { ...base, 'webhook-signature': other }, body, now)).toBe(false);
    expect(verifyWebhook(secret, { ...base, 'webhook-signature': valid.replace('v1,', 'v2,') }, body, now)).toBe(false);
    expect(verifyWebhook(secret, { ...base, 'webhook-signature': valid.slice(0, -4) }, body, now)).toBe(false);
  });

  it('fails when a header is missing or repeated', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders(secret, id, now, body);
    for (const name of Object.keys(headers) as (keyof typeof headers)[]) {
      const { [name]: _dropped, ...rest } = headers;
      expect(verifyWebhook(secret, rest, body, now), name).toBe(false);
    }
    expect(verifyWebhook(secret, { ...headers, 'webhook-signature': [headers['webhook-signature'], headers['webhook-signature']] }, body, now)).toBe(false);
  });
});
