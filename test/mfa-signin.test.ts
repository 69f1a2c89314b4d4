import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { purgeExpiredState } from '../src/worker/purge.ts';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson, PASSWORD, type Person } from './helpers/access-fixtures.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { auditOf, enrolPasskey, statusesOf } from './helpers/mfa-api.ts';

describeEachDialect(
  'signing in with a second factor',
  (server) => {
    let minutes = 0;
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + ++minutes * 20 * 60_000);
    });
    afterEach(() => {
      vi.useRealTimers();
    });
    const person = (label: string): Promise<Person> => createPerson(server(), label);
    const fresh = () => new ApiClient(server().url);
    /** The password step: the pending sign-in's answer. */
    const password = async (email: string, client = fresh()) => {
      const res = await client.post('/api/v1/session', { email, password: PASSWORD });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { client, body: res.body };
    };
    const finish = async (client: ApiClient, body: object) => {
      const res = await client.post('/api/v1/session/second-factor', body);
      if (res.status === 200) client.useCsrf(res.body.csrf_token);
      return res;
    };

    it('keeps the old answer for a user without a factor, and records amr pwd', async () => {
      const p = await person('plain');
      const { client, body } = await password(p.email);
      expect(body).toMatchObject({ user: { id: p.id }, csrf_token: expect.any(String), amr: ['pwd'] });
      expect(body.second_factor_required).toBeUndefined();
      expect((await client.get('/api/v1/session')).body).toMatchObject({ amr: ['pwd'], mfa_enrolment_required: false });
    });

    it('asks for the second factor after the password, and a TOTP code opens the session', async () => {
      const p = await person('totp-signin');
      const totp = await enrolTotp(server(), p.id);
      const { client, body } = await password(p.email);
      expect(body).toMatchObject({ second_factor_required: true, pending: expect.stringMatching(/^mfa_/), methods: ['totp', 'recovery_code'], webauthn: null });
      expect(Date.parse(body.expires_at) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
      // No session yet.
      expect((await client.get('/api/v1/session')).status).toBe(401);
      const stored = await server().app.core.db.selectFrom('mfa_pending').select('id').where('purpose', '=', 'sign_in').execute();
      expect(stored.map((r) => r.id)).not.toContain(body.pending);

      const done = await finish(client, { pending: body.pending, totp: totp.code() });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body).toMatchObject({ user: { id: p.id }, amr: ['pwd', 'otp', 'mfa'] });
      const session = await client.get('/api/v1/session');
      expect(session.body.amr).toEqual(['pwd', 'otp', 'mfa']);
      const sessionId = (await server().app.core.db.selectFrom('sessions').select('id').where('user_id', '=', p.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow()).id;
      expect(await server().app.services.auth.amrOfSession(sessionId)).toEqual(['pwd', 'otp', 'mfa']);
      expect((await auditOf(server(), 'session.created')).find((e) => e.target_id === p.id && e.data.method === 'totp')).toBeDefined();

      // The pending sign-in worked once.
      const again = await finish(fresh(), { pending: body.pending, totp: totp.code(1) });
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('sign_in_expired');
    });

    it('signs in with a passkey as the second factor, and with a passwordless passkey alone', async () => {
      const p = await person('passkey-signin');
      const { authenticator } = await enrolPasskey(server(), p.client);
      const { client, body } = await password(p.email);
      expect(body.methods).toEqual(['webauthn', 'recovery_code']);
      expect(body.webauthn.allowCredentials).toHaveLength(1);
      const done = await finish(client, { pending: body.pending, webauthn: authenticator.authenticate(body.webauthn) });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body.amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);

      const options = await fresh().post('/api/v1/session/passkey/options');
      expect(options.status).toBe(200);
      expect(options.body.webauthn).toMatchObject({ userVerification: 'required', allowCredentials: [] });
      const alone = fresh();
      const signedIn = await alone.post('/api/v1/session/passkey', { challenge_id: options.body.challenge_id, response: authenticator.authenticate(options.body.webauthn) });
      expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
      expect(signedIn.body).toMatchObject({ user: { id: p.id }, amr: ['hwk', 'user'] });
      expect((await alone.get('/api/v1/session')).body.user.id).toBe(p.id);
      // The challenge worked once.
      const replay = await fresh().post('/api/v1/session/passkey', { challenge_id: options.body.challenge_id, response: authenticator.authenticate(options.body.webauthn) });
      expect(replay.status).toBe(401);
    });

    it('refuses a passwordless sign-in with a passkey that does not verify the user, or another site assertion', async () => {
      const p = await person('no-uv');
      const { authenticator } = await enrolPasskey(server(), p.client, 'Plain key', { userVerification: false });
      const options = await fresh().post('/api/v1/session/passkey/options');
      const refused = await fresh().post('/api/v1/session/passkey', { challenge_id: options.body.challenge_id, response: authenticator.authenticate(options.body.webauthn) });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('invalid_passkey');
      // As a second factor it still works.
      const { client, body } = await password(p.email);
      expect((await finish(client, { pending: body.pending, webauthn: authenticator.authenticate(body.webauthn) })).status).toBe(200);
    });

    it('lets a recovery code in once, and refuses bad input naming the field', async () => {
      const p = await person('recovery');
      await enrolTotp(server(), p.id);
      const codes = (await p.client.post('/api/v1/me/recovery-codes')).body.codes as string[];
      const first = await password(p.email);
      const done = await finish(first.client, { pending: first.body.pending, recovery_code: codes[3] });
      expect(done.status).toBe(200);
      expect(done.body.amr).toEqual(['pwd', 'otp', 'mfa']);
      const second = await password(p.email);
      expect((await finish(second.client, { pending: second.body.pending, recovery_code: codes[3] })).status).toBe(401);

      const two = await fresh().post('/api/v1/session/second-factor', { pending: second.body.pending, totp: '123456', recovery_code: codes[4] });
      expect(two.status).toBe(400);
      const noPending = await fresh().post('/api/v1/session/second-factor', { totp: '123456' });
      expect(noPending.status).toBe(400);
      expect(JSON.stringify(noPending.body)).toContain('pending');
      const badTotp = await fresh().post('/api/v1/session/second-factor', { pending: 'x', totp: 'abcdef' });
      expect(badTotp.status).toBe(400);
      expect(JSON.stringify(badTotp.body)).toContain('totp');
      const badPasskey = await fresh().post('/api/v1/session/passkey', { challenge_id: 'x' });
      expect(badPasskey.status).toBe(400);
      expect(JSON.stringify(badPasskey.body)).toContain('response');
    });

    it('counts wrong factors against the sign-in throttle: too many answer 429, and a correct password does not reset it', async () => {
      const p = await person('throttled');
      const totp = await enrolTotp(server(), p.id);
      // INTERIM_LOGIN_MAX_FAILURES=4 for this suite.
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { client, body } = await password(p.email);
        statuses.push((await finish(client, { pending: body.pending, totp: totp.code(-10) })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401]);
      const blocked = await fresh().post('/api/v1/session', { email: p.email, password: PASSWORD });
      expect(blocked.status).toBe(429);
      expect((await auditOf(server(), 'session.sign_in_failed')).find((e) => e.data.email === p.email && e.data.step === 'second_factor')).toBeDefined();
    });

    it('makes one session when the same pending sign-in or the same recovery code is used twice at the same time', async () => {
      const p = await person('race');
      const totp = await enrolTotp(server(), p.id);
      const codes = (await p.client.post('/api/v1/me/recovery-codes')).body.codes as string[];
      const sessionsBefore = await countSessions(p.id);

      // One pending sign-in, two valid proofs.
      const { body } = await password(p.email);
      const onePending = await statusesOf([finish(fresh(), { pending: body.pending, totp: totp.code() }), finish(fresh(), { pending: body.pending, recovery_code: codes[0] })]);
      expect(onePending).toEqual([200, 401]);

      // Two pending sign-ins, one recovery code.
      const [a, b] = await Promise.all([password(p.email), password(p.email)]);
      const oneCode = await statusesOf([finish(a.client, { pending: a.body.pending, recovery_code: codes[1] }), finish(b.client, { pending: b.body.pending, recovery_code: codes[1] })]);
      expect(oneCode).toEqual([200, 401]);

      // Two pending sign-ins, one TOTP code (a later step than the one above).
      vi.setSystemTime(Date.now() + 60_000);
      const [c, d] = await Promise.all([password(p.email), password(p.email)]);
      const code = totp.code();
      const oneTotp = await statusesOf([finish(c.client, { pending: c.body.pending, totp: code }), finish(d.client, { pending: d.body.pending, totp: code })]);
      expect(oneTotp).toEqual([200, 401]);
      expect(await countSessions(p.id)).toBe(sessionsBefore + 3);
    });

    it('expires a pending sign-in after 5 minutes', async () => {
      const p = await person('late');
      const totp = await enrolTotp(server(), p.id);
      const { client, body } = await password(p.email);
      vi.setSystemTime(Date.now() + 5 * 60_000 + 1000);
      const late = await finish(client, { pending: body.pending, totp: totp.code() });
      expect(late.status).toBe(401);
      expect(late.body.code).toBe('sign_in_expired');
      // The worker's purge removes what expired.
      await purgeExpiredState(server().app.core, { throttleWindowMs: 15 * 60_000 });
      const left = await server().app.core.db.selectFrom('mfa_pending').select('id').where('expires_at', '<=', Date.now()).execute();
      expect(left).toEqual([]);
    });

    const countSessions = async (userId: string) =>
      Number((await server().app.core.db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);
  },
  { INTERIM_LOGIN_MAX_FAILURES: '4' },
);
