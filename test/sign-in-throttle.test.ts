import * as client from 'openid-client';
import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser, isLoginForm, parseForm } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import { startSecondProcess } from './helpers/interim-process.ts';

const ACCOUNT_LIMIT = 10;
const IP_LIMIT = 100;
const WRONG = 'not the password at all';

/**
 * The sign-in throttle under truly concurrent attempts, against the real HTTP server.
 * Each test signs in from its own address (X-Forwarded-For, trusted here), so the
 * per-IP counts of one test do not spill into another.
 */
describeEachDialect(
  'sign-in throttle under concurrency',
  (server) => {
    let ipCounter = 0;
    const freshIp = () => `198.51.100.${++ipCounter}`;

    /** POST /api/v1/session from `ip`. */
    const signIn = (email: string, password: string, ip: string) =>
      new ApiClient(server().url).request('POST', '/api/v1/session', { email, password }, { 'x-forwarded-for': ip });

    const auditRows = (action: string) =>
      server().app.core.db.selectFrom('audit_events').select(['data', 'target_type', 'target_id']).where('action', '=', action).execute();
    const auditFor = async (action: string, match: (data: Record<string, unknown>) => boolean) =>
      (await auditRows(action)).map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> })).filter((r) => match(r.data));

    it('counts 30 concurrent wrong passwords against the account limit of 10', async () => {
      const email = 'burst@example.test';
      const userId = await createUser(server(), email);
      const ip = freshIp();
      const results = await Promise.all(Array.from({ length: 30 }, () => signIn(email, WRONG, ip)));
      const statuses = results.map((r) => r.status);
      // Only the first ACCOUNT_LIMIT reservations reach the password check.
      expect(statuses.filter((st) => st === 401).length).toBe(ACCOUNT_LIMIT);
      expect(statuses.filter((st) => st === 429).length).toBe(30 - ACCOUNT_LIMIT);
      for (const r of results.filter((x) => x.status === 429)) {
        expect(r.body.code).toBe('rate_limited');
        expect(r.body.retry_after).toBeGreaterThan(0);
      }
      expect((await signIn(email, PASSWORD, freshIp())).status).toBe(429);

      // One audit event per key per window, however many attempts failed.
      const failed = await auditFor('session.sign_in_failed', (d) => d.key === 'account' && d.email === email);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ target_type: 'account', target_id: userId });
      const throttled = await auditFor('session.sign_in_throttled', (d) => d.key === 'account' && d.email === email);
      expect(throttled).toHaveLength(1);
      expect(throttled[0]!.data).toMatchObject({ ip });
    });

    it('does not let a correct password inside a burst wipe the failures that passed the limit', async () => {
      const email = 'burst-right@example.test';
      await createUser(server(), email);
      const ip = freshIp();
      const results = await Promise.all([...Array.from({ length: 30 }, () => signIn(email, WRONG, ip)), signIn(email, PASSWORD, ip)]);
      // The right password succeeds only if its reservation was among the first ten.
      expect([200, 429]).toContain(results.at(-1)!.status);
      expect(results.slice(0, 30).filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(30 - 2 * ACCOUNT_LIMIT);
      // However the burst interleaved, at least 20 attempts came after any reset, so the
      // account is over its limit now and the right password waits out the window.
      expect((await signIn(email, PASSWORD, freshIp())).status).toBe(429);
    });

    it('counts attempts spread over two server processes against one limit', async () => {
      const second = await startSecondProcess(server(), { INTERIM_TRUST_PROXY: 'true', INTERIM_LOGIN_MAX_FAILURES: String(ACCOUNT_LIMIT), INTERIM_LOGIN_IP_MAX_FAILURES: String(IP_LIMIT) });
      try {
        const email = 'two-processes@example.test';
        await createUser(server(), email);
        const ip = freshIp();
        const at = (url: string) => new ApiClient(url).request('POST', '/api/v1/session', { email, password: WRONG }, { 'x-forwarded-for': ip });
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => at(i % 2 ? second.url : server().url)));
        const statuses = results.map((r) => r.status);
        expect(statuses.filter((st) => st === 401).length).toBe(ACCOUNT_LIMIT);
        expect(statuses.filter((st) => st === 429).length).toBe(30 - ACCOUNT_LIMIT);
        expect((await new ApiClient(second.url).request('POST', '/api/v1/session', { email, password: PASSWORD }, { 'x-forwarded-for': freshIp() })).status).toBe(429);
      } finally {
        await second.stop();
      }
    });

    it('refuses the OIDC login form the same way when 30 wrong passwords arrive at once', async () => {
      const s = server();
      const email = 'oidc-burst@example.test';
      await createUser(s, email);
      const app = await createApp(s);
      const config = await relyingParty(s, app);
      const browser = new Browser(s.url);
      const url = client.buildAuthorizationUrl(config, { redirect_uri: app.redirectUri, scope: 'openid', code_challenge: 'z'.repeat(43), code_challenge_method: 'S256' });
      const page = await browser.navigate(url.href);
      expect(isLoginForm(page.html)).toBe(true);
      const form = parseForm(page.html!);
      const ip = freshIp();
      const post = (password: string) => browser.navigate(form.action, { form: { ...form.fields, email, password }, headers: { 'x-forwarded-for': ip } });

      const results = await Promise.all(Array.from({ length: 30 }, () => post(WRONG)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((st) => st === 401).length).toBe(ACCOUNT_LIMIT);
      expect(statuses.filter((st) => st === 429).length).toBe(30 - ACCOUNT_LIMIT);
      for (const r of results.filter((x) => x.status === 429)) expect(r.html).toContain('Too many attempts');
      // The right password after the burst is still refused, on the form and the API alike.
      expect((await post(PASSWORD)).status).toBe(429);
      expect((await signIn(email, PASSWORD, freshIp())).status).toBe(429);
    });

    it('gives 429 beyond the per-IP limit to 150 concurrent wrong attempts from one address', async () => {
      const ip = freshIp();
      // Different (unknown) accounts, so only the IP limit can refuse.
      const results = await Promise.all(Array.from({ length: 150 }, (_, i) => signIn(`ip-burst-${i}@example.test`, WRONG, ip)));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((st) => st === 401).length).toBe(IP_LIMIT);
      expect(statuses.filter((st) => st === 429).length).toBe(150 - IP_LIMIT);
      // A right password from that address now waits too; another address does not.
      const email = 'ip-victim@example.test';
      await createUser(server(), email);
      expect((await signIn(email, PASSWORD, ip)).status).toBe(429);
      expect((await signIn(email, PASSWORD, freshIp())).status).toBe(200);

      expect(await auditFor('session.sign_in_failed', (d) => d.key === 'ip' && d.ip === ip)).toHaveLength(1);
      expect(await auditFor('session.sign_in_throttled', (d) => d.key === 'ip' && d.ip === ip)).toHaveLength(1);
    });

    it('lets a success below the limit start the account afresh, and gives its IP reservation back', async () => {
      const email = 'typo@example.test';
      await createUser(server(), email);
      const ip = freshIp();
      for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) expect((await signIn(email, WRONG, ip)).status).toBe(401);
      expect((await signIn(email, PASSWORD, ip)).status).toBe(200);
      // The account's count was reset, so another nine typos are still answered 401.
      for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) expect((await signIn(email, WRONG, ip)).status).toBe(401);
      const rows = await server().app.core.db.selectFrom('login_throttle').select(['key', 'failures']).where('key', 'in', [`account:${email}`, `ip:${ip}`]).execute();
      const count = (key: string) => rows.find((r) => r.key === key)!.failures;
      expect(count(`account:${email}`)).toBe(ACCOUNT_LIMIT - 1);
      // 18 failures from the address; the success gave its own reservation back.
      expect(count(`ip:${ip}`)).toBe(2 * (ACCOUNT_LIMIT - 1));
    });

    it('audits sign-outs', async () => {
      const email = 'leaver@example.test';
      const userId = await createUser(server(), email);
      const portal = new ApiClient(server().url);
      expect((await portal.signIn(email, PASSWORD)).status).toBe(200);
      expect((await portal.delete('/api/v1/session')).status).toBe(204);
      const ended = await server().app.core.db.selectFrom('audit_events').selectAll().where('action', '=', 'session.ended').where('target_id', '=', userId).execute();
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ actor_type: 'user', actor_id: userId });
      // Signing out needs a session: an anonymous caller is told to sign in.
      expect((await new ApiClient(server().url).delete('/api/v1/session')).status).toBe(401);

      // Signing out through OIDC RP-initiated logout is audited too.
      const s = server();
      const app = await createApp(s);
      const config = await relyingParty(s, app);
      const browser = new Browser(s.url);
      const { tokens } = await codeFlow(config, browser, app, { email, password: PASSWORD });
      const endUrl = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out' });
      const form = parseForm((await browser.navigate(endUrl.href)).html!);
      expect((await browser.navigate(form.action, { form: { ...form.fields, logout: 'yes' } })).leftTo).toContain('/signed-out');
      const all = await server().app.core.db.selectFrom('audit_events').select('data').where('action', '=', 'session.ended').where('target_id', '=', userId).orderBy('seq').execute();
      expect(all.map((a) => JSON.parse(a.data).via ?? 'api')).toEqual(['api', 'oidc_logout']);
    });

    it('signing out of the portal ends the provider sessions of the user, and only those', async () => {
      const email = 'portal-leaver@example.test';
      const userId = await createUser(server(), email);
      const s = server();
      const app = await createApp(s);
      const config = await relyingParty(s, app);
      await codeFlow(config, new Browser(s.url), app, { email, password: PASSWORD });
      const models = async () => (await s.app.core.db.selectFrom('oidc_payloads').select('model').where('account_id', '=', userId).execute()).map((r) => r.model);
      expect(await models()).toContain('Session');
      expect(await models()).toContain('Grant');

      const portal = new ApiClient(s.url);
      expect((await portal.signIn(email, PASSWORD)).status).toBe(200);
      expect((await portal.delete('/api/v1/session')).status).toBe(204);
      expect(await models()).not.toContain('Session');
      expect(await models()).toContain('Grant');
    });

    it('refuses malformed sign-in bodies with 400, counting nothing', async () => {
      const ip = freshIp();
      const bad = await new ApiClient(server().url).request('POST', '/api/v1/session', { email: ['a@example.test'], password: 5 }, { 'x-forwarded-for': ip });
      expect(bad.status).toBe(400);
      const row = await server().app.core.db.selectFrom('login_throttle').select('failures').where('key', '=', `ip:${ip}`).executeTakeFirst();
      expect(row).toBeUndefined();
    });
  },
  { INTERIM_TRUST_PROXY: 'true', INTERIM_LOGIN_MAX_FAILURES: String(ACCOUNT_LIMIT), INTERIM_LOGIN_IP_MAX_FAILURES: String(IP_LIMIT) },
);
