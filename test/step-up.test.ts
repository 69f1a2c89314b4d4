import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bindingHashOf, listHashOf } from '../src/modules/step-up/index.ts';
import { setUpAccess, type AccessSetup } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';

describe('what a step-up proof is bound to', () => {
  it('hashes the same act by the same user alike, and any other act, user, stage or list differently', () => {
    const base = { action: 'approve' as const, target: 'req-1', stage: 0 };
    expect(bindingHashOf('u1', base)).toBe(bindingHashOf('u1', { ...base }));
    const others = [
      bindingHashOf('u2', base),
      bindingHashOf('u1', { ...base, action: 'deny' }),
      bindingHashOf('u1', { ...base, target: 'req-2' }),
      bindingHashOf('u1', { ...base, stage: 1 }),
      bindingHashOf('u1', { ...base, stage: null }),
    ];
    expect(new Set([bindingHashOf('u1', base), ...others]).size).toBe(others.length + 1);
    expect(listHashOf(['a', 'b'])).not.toBe(listHashOf(['b', 'a']));
    expect(listHashOf(['a', 'b'])).not.toBe(listHashOf(['ab']));
  });
});

describeEachDialect('step-up proofs', (server) => {
  let s: AccessSetup;
  let totp: Awaited<ReturnType<typeof enrolTotp>>;
  beforeAll(async () => {
    s = await setUpAccess(server());
    totp = await enrolTotp(server(), s.approver.id);
  });
  // Each test a minute later than the last: a TOTP code is accepted once per 30-second step.
  let minutes = 0;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + ++minutes * 60_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const binding = { action: 'approve', target: 'request-1', stage: 0 } as const;
  const consume = (userId: string, proofId: string | undefined, b: { action: 'approve' | 'deny'; target: string; stage: number } = binding, maxAgeMs = 5 * 60_000) =>
    server()
      .app.core.db.transaction()
      .execute((trx) => server().app.services.stepUp.guard.consume(trx, userId, b, proofId, maxAgeMs))
      .then(
        (use) => ({ ok: true as const, use }),
        (error: { code?: string; extra?: Record<string, unknown> }) => ({ ok: false as const, code: error.code, extra: error.extra }),
      );
  const startAndVerify = async (b: object = binding) => {
    const started = await s.approver.client.post('/api/v1/step-up', b);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const verified = await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: totp.code() });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    return started.body.id as string;
  };

  it('is started for an exact act, verified with a second factor, and spent once for that act only', async () => {
    const started = await s.approver.client.post('/api/v1/step-up', binding);
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ methods: ['totp', 'recovery_code'], webauthn: null });
    expect(started.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await s.approver.client.post('/api/v1/step-up', binding);
    expect(again.body.challenge).not.toBe(started.body.challenge);

    // Not verified yet: nothing to spend.
    expect(await consume(s.approver.id, started.body.id)).toMatchObject({ ok: false, code: 'step_up_invalid' });
    const verified = await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: totp.code() });
    expect(verified.status).toBe(200);
    expect(verified.body.method).toBe('totp');

    // Another act, another user: refused, and the proof is still there for its own act.
    expect(await consume(s.approver.id, started.body.id, { ...binding, action: 'deny' })).toMatchObject({ ok: false, code: 'step_up_invalid' });
    expect(await consume(s.approver.id, started.body.id, { ...binding, stage: 1 })).toMatchObject({ ok: false, code: 'step_up_invalid' });
    expect(await consume(s.secondApprover.id, started.body.id)).toMatchObject({ ok: false, code: 'step_up_invalid' });
    const spent = await consume(s.approver.id, started.body.id);
    expect(spent).toMatchObject({ ok: true, use: { proof_id: started.body.id, method: 'totp' } });
    // Replayed: refused.
    expect(await consume(s.approver.id, started.body.id)).toMatchObject({ ok: false, code: 'step_up_invalid' });
  });

  it('says what to start when no proof comes, and refuses a stale one', async () => {
    const none = await consume(s.approver.id, undefined);
    expect(none).toMatchObject({ ok: false, code: 'step_up_required', extra: { step_up: { action: 'approve', target: 'request-1', stage: 0, max_age_minutes: 5 } } });
    const id = await startAndVerify();
    vi.setSystemTime(Date.now() + 5 * 60_000 + 1000);
    expect(await consume(s.approver.id, id)).toMatchObject({ ok: false, code: 'step_up_stale' });
    // A longer "within N minutes" still accepts it.
    expect(await consume(s.approver.id, id, binding, 10 * 60_000)).toMatchObject({ ok: true });
  });

  it('spends one proof once when two acts race for it', async () => {
    const id = await startAndVerify({ ...binding, target: 'request-race' });
    const results = await Promise.all([1, 2, 3, 4].map(() => consume(s.approver.id, id, { ...binding, target: 'request-race' })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === 'step_up_invalid')).toBe(true);
  });

  it('ends a check after five wrong codes or five minutes, and lets only its owner verify it', async () => {
    const started = await s.approver.client.post('/api/v1/step-up', { ...binding, target: 'request-wrong' });
    const other = await s.secondApprover.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: '000000' });
    expect(other.status).toBe(404);
    for (let i = 0; i < 5; i++) {
      const wrong = await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: '000000' });
      expect(wrong.status).toBe(403);
      expect(wrong.body.code).toBe('step_up_failed');
    }
    const late = await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: totp.code() });
    expect(late.status).toBe(410);

    const expiring = await s.approver.client.post('/api/v1/step-up', { ...binding, target: 'request-late' });
    vi.setSystemTime(Date.now() + 5 * 60_000 + 1000);
    expect((await s.approver.client.post(`/api/v1/step-up/${expiring.body.id}/verify`, { totp: totp.code() })).status).toBe(410);
  });

  it('verifies a proof once when two codes race for it', async () => {
    const started = await s.approver.client.post('/api/v1/step-up', { ...binding, target: 'request-verify-race' });
    const results = await Promise.all([totp.code(), totp.code(1)].map((code) => s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: code })));
    // The loser either finds its step spent (403) or the proof already verified (409).
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.every((r) => [200, 403, 409].includes(r.status))).toBe(true);
  });

  it('needs a signed-in caller with a factor, and refuses bad input naming the field', async () => {
    const anonymous = await fetch(`${server().url}/api/v1/step-up`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(binding) });
    expect(anonymous.status).toBe(401);
    const noFactor = await s.outsider.client.post('/api/v1/step-up', binding);
    expect(noFactor.status).toBe(409);
    expect(noFactor.body.code).toBe('no_second_factor');
    const badAction = await s.approver.client.post('/api/v1/step-up', { ...binding, action: 'format_disk' });
    expect(badAction.status).toBe(400);
    expect(JSON.stringify(badAction.body)).toContain('action');
    const started = await s.approver.client.post('/api/v1/step-up', binding);
    const two = await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: '123456', recovery_code: 'x' });
    expect(two.status).toBe(400);
    const letters = await s.approver.client.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: 'abcdef' });
    expect(letters.status).toBe(400);
    expect(JSON.stringify(letters.body)).toContain('totp');
  });
});
