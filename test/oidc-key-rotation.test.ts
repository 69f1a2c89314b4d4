import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.ts';
import { rotateKeysCommand } from '../src/oidc/key-rotation.ts';
import { keySetAt, parseCookieKeys, type ScheduledKey } from '../src/oidc/key-schedule.ts';
import type { PrivateJwk } from '../src/oidc/keys.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { createApp, createUser, PASSWORD, TEST_API } from './helpers/oidc-fixtures.ts';
import { codeFlow, decodeJwt, relyingParty, verifyJwt } from './helpers/oidc-rp.ts';
import { freePort } from './helpers/postgres-cluster.ts';

const MIN = 60_000;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const PUBLISH_DELAY_MINS = 60;
const CHECK_SECS = 5;

type Jwks = { keys: { kid: string; alg: string }[] };
const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
const jwksAt = async (origin: string) => ((await (await fetch(`${origin}/oidc/jwks`)).json()) as Jwks).keys.map((k) => k.kid).sort();

describe('keySetAt: which keys are published and which signs, at an instant', () => {
  const key = (kid: string, signsFrom: number, retiredAt: number | null): ScheduledKey => ({ jwk: { kid, alg: 'EdDSA' } as PrivateJwk, signsFrom, retiredAt, createdAt: signsFrom });
  const keys = [key('old', 0, 200), key('new', 100, null)];
  const cookies = [{ key: 'c-new', signsFrom: 100, retiredAt: null }, { key: 'c-old', signsFrom: 0, retiredAt: 300 }];

  it('publishes the next key before it signs, keeps the old one until it retires', () => {
    expect(keySetAt(keys, cookies, 50)).toEqual({ secrets: { keys: [keys[0]!.jwk, keys[1]!.jwk], cookieKeys: ['c-old', 'c-new'] }, validUntil: 100 });
    expect(keySetAt(keys, cookies, 100)).toEqual({ secrets: { keys: [keys[1]!.jwk, keys[0]!.jwk], cookieKeys: ['c-new', 'c-old'] }, validUntil: 200 });
    expect(keySetAt(keys, cookies, 200)).toEqual({ secrets: { keys: [keys[1]!.jwk], cookieKeys: ['c-new', 'c-old'] }, validUntil: 300 });
    expect(keySetAt(keys, cookies, 300)).toEqual({ secrets: { keys: [keys[1]!.jwk], cookieKeys: ['c-new'] }, validUntil: Infinity });
  });

  it('reads cookie keys stored before rotation existed (a list, newest first) with the first one signing', () => {
    const legacy = parseCookieKeys(JSON.stringify(['newest', 'older']));
    expect(keySetAt([], legacy, 0).secrets.cookieKeys).toEqual(['newest', 'older']);
    expect(keySetAt([], legacy, 0).validUntil).toBe(Infinity);
  });
});

describeEachDialect(
  'interim keys rotate',
  (server) => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('publishes new keys first, signs with them after the delay, retires the old ones after their tokens, on every instance', async () => {
      const s = server();
      // A second instance on the same database, as another process or machine would be.
      const portB = await freePort();
      const b = await buildApp({ ...s.config, port: portB }, { logger: false });
      await b.listen();
      const originB = `http://127.0.0.1:${portB}`;
      try {
        await createUser(s, 'rotation@example.test');
        const app = await createApp(s, { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'], accessTtl: 7200 });
        const config = await relyingParty(s, app);
        const browser = new Browser(s.url);
        const before = await codeFlow(config, browser, app, { email: 'rotation@example.test', password: PASSWORD });
        const oldKids = await jwksAt(s.url);
        expect(oldKids).toHaveLength(3);
        expect(await jwksAt(originB)).toEqual(oldKids);
        const oldKid = kidOf(before.tokens.id_token!);
        expect(oldKids).toContain(oldKid);

        const rotatedAt = Date.now();
        const report = await rotateKeysCommand(s.config);
        expect(report).toMatch(/new signing keys published now/);

        // Each instance reads the key version within INTERIM_KEY_CHECK_SECS, without a restart.
        vi.setSystemTime(rotatedAt + (CHECK_SECS + 1) * 1000);
        const bothA = await jwksAt(s.url);
        expect(bothA).toHaveLength(6);
        expect(bothA).toEqual(expect.arrayContaining(oldKids));
        expect(await jwksAt(originB)).toEqual(bothA);
        const newKids = bothA.filter((k) => !oldKids.includes(k));

        // Published, but not signing yet: the old key still signs, on both instances.
        const stillOld = await client.refreshTokenGrant(config, before.tokens.refresh_token!);
        expect(kidOf(stillOld.id_token!)).toBe(oldKid);
        expect(kidOf(await machineToken(originB, app.id, app.secret!))).toBe(oldKid);

        // After the publish delay, the new key signs; tokens signed before still verify.
        vi.setSystemTime(rotatedAt + PUBLISH_DELAY_MINS * MIN + 1000);
        const fresh = await client.refreshTokenGrant(config, stillOld.refresh_token!);
        const newKid = kidOf(fresh.id_token!);
        expect(newKids).toContain(newKid);
        expect((await verifyJwt(s, fresh.id_token!)).header.kid).toBe(newKid);
        expect((await verifyJwt(s, stillOld.id_token!)).header.kid).toBe(oldKid);
        expect(kidOf(await machineToken(originB, app.id, app.secret!))).toBe(newKid);
        // The browser's provider cookies, signed with the old cookie key, still work: no new sign-in.
        expect((await codeFlow(config, browser, app, {})).sawLoginForm).toBe(false);

        // The old keys leave the JWKS only after the longest token lifetime (this app: 2 h) past the switch.
        vi.setSystemTime(rotatedAt + PUBLISH_DELAY_MINS * MIN + 119 * MIN);
        expect(await jwksAt(s.url)).toHaveLength(6);
        vi.setSystemTime(rotatedAt + PUBLISH_DELAY_MINS * MIN + 122 * MIN);
        expect(await jwksAt(s.url)).toEqual(newKids);
        expect(await jwksAt(originB)).toEqual(newKids);
        const after = await client.refreshTokenGrant(config, fresh.refresh_token!);
        expect(kidOf(after.id_token!)).toBe(newKid);
        expect(decodeJwt(after.id_token!).sub).toBe(decodeJwt(before.tokens.id_token!).sub);
      } finally {
        await b.close();
      }
    });

    it('runs as `interim keys rotate` from the command line, and a running server picks the keys up', async () => {
      const s = server();
      const before = await jwksAt(s.url);
      const { config } = s;
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        INTERIM_MASTER_KEY: config.masterKey.toString('base64'),
        INTERIM_LOG_LEVEL: 'silent',
        INTERIM_KEY_PUBLISH_DELAY_MINS: String(PUBLISH_DELAY_MINS),
        ...(config.database.kind === 'postgres' ? { DATABASE_URL: config.database.url } : { INTERIM_DATA_DIR: config.dataDir }),
      };
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'admin', 'keys', 'rotate'], { cwd: repoRoot, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^new signing keys published now: .+\nthey sign from \d{4}-/);
      vi.setSystemTime(Date.now() + (CHECK_SECS + 1) * 1000);
      expect(await jwksAt(s.url)).toHaveLength(before.length + 3);
      const audit = await s.app.core.db.selectFrom('audit_events').select('action').where('action', '=', 'oidc.keys_rotated').execute();
      expect(audit.length).toBeGreaterThanOrEqual(2);
    });
  },
  { INTERIM_KEY_PUBLISH_DELAY_MINS: String(PUBLISH_DELAY_MINS), INTERIM_KEY_CHECK_SECS: String(CHECK_SECS) },
);

/** A client-credentials JWT access token from one instance's token endpoint (signed with the app's EdDSA key). */
async function machineToken(origin: string, clientId: string, secret: string): Promise<string> {
  const res = await fetch(`${origin}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: TEST_API }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}
