import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { createPerson } from './helpers/access-fixtures.ts';
import {
  browserOf,
  CLI,
  configFolder,
  confirm,
  enterCode,
  pollDeviceToken,
  runCli,
  signedInCli,
  startCli,
  startDeviceAuth,
} from './helpers/cli-session.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { parseForm } from './helpers/oidc-browser.ts';
import { recoveryCodeHash } from '../src/modules/mfa/index.ts';
import { newId } from '../src/security/ids.ts';
import { createApp } from './helpers/oidc-fixtures.ts';

const credentialsOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as Record<string, string | number>;

describeEachDialect('interim login: device authorization for the CLI', (server) => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('signs the CLI in end to end: code in the terminal, confirm in the browser, tokens in a 0600 file in a 0700 folder', async () => {
    const person = await createPerson(server(), 'device');
    const dir = configFolder();
    const cli = startCli(dir, 'login', '--server', server().url, '--no-browser');
    const userCode = await cli.userCode();
    expect(cli.stderr()).toContain(`${server().url}/oidc/device`);

    const browser = browserOf(server(), person);
    const confirmPage = await enterCode(server(), browser, userCode);
    expect(confirmPage.status).toBe(200);
    expect(confirmPage.html).toContain('Only continue if you started this sign-in on your own computer just now');
    expect(confirmPage.html).toContain('Interim command line');
    expect(confirmPage.html).toContain('less than a minute ago');
    expect(confirmPage.html).toContain(person.email);
    expect(confirmPage.html).not.toContain('second_factor');
    const done = await confirm(browser, confirmPage);
    expect(done.html).toContain('is signed in');

    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Signed in to ${server().url} as ${person.email}`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(credentialsOf(dir)).toMatchObject({ server: server().url, client_id: CLI, email: person.email });

    const listed = await runCli(dir, 'requests', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]);

    const audit = await server().app.core.db.selectFrom('audit_events').select(['action', 'actor_id', 'data']).where('action', '=', 'oidc.device_login').where('actor_id', '=', person.id).execute();
    expect(audit).toHaveLength(1);

    // The device is listed for its user (and marked as the one calling), revocable, and then the CLI is signed out (exit 3).
    const asCli = new ApiClient(server().url).withToken(String(credentialsOf(dir).access_token));
    const devices = await asCli.get('/api/v1/me/devices');
    expect(devices.status).toBe(200);
    expect(devices.body.items).toHaveLength(1);
    expect(devices.body.items[0].current).toBe(true);
    const portal = await person.client.get('/api/v1/me/devices');
    expect(portal.body.items.map((d: { id: string }) => d.id)).toEqual([devices.body.items[0].id]);
    expect(portal.body.items[0].current).toBe(false);
    expect((await person.client.delete(`/api/v1/me/devices/${devices.body.items[0].id}`)).status).toBe(204);
    const after = await runCli(dir, 'requests');
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/sign-in has ended/);
  });

  it('a cancelled confirmation ends `interim login` with exit code 4', async () => {
    const person = await createPerson(server(), 'device-no');
    const dir = configFolder();
    const cli = startCli(dir, 'login', '--server', server().url, '--no-browser');
    const userCode = await cli.userCode();
    const browser = browserOf(server(), person);
    const page = await enterCode(server(), browser, userCode);
    const form = parseForm(page.html!);
    const aborted = await browser.navigate(form.action, { form: { ...form.fields, abort: 'yes' } });
    expect(aborted.html).toContain('cancelled');
    const result = await cli.done;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('cancelled in the browser');
  });

  it('confirming needs the second factor when the user has one: missing and wrong codes show the page again, a right one signs in', async () => {
    const person = await createPerson(server(), 'device-mfa');
    const totp = await enrolTotp(server(), person.id);
    const started = await startDeviceAuth(server());
    const browser = browserOf(server(), person);
    const page = await enterCode(server(), browser, String(started.body.user_code));
    expect(page.html).toContain('name="second_factor"');

    const missing = await confirm(browser, page, '');
    expect(missing.html).toContain('Enter a code from your authenticator app');
    const wrong = await confirm(browser, missing, totp.code() === '000000' ? '111111' : '000000');
    expect(wrong.html).toContain('That code is not correct');
    expect((await pollDeviceToken(server(), String(started.body.device_code))).body.error).toBe('authorization_pending');

    const done = await confirm(browser, wrong, totp.code());
    expect(done.html).toContain('is signed in');
    const tokens = await pollDeviceToken(server(), String(started.body.device_code));
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toBeTruthy();
  });

  it('a recovery code confirms once; the same code cannot confirm a second sign-in', async () => {
    const person = await createPerson(server(), 'device-recovery');
    await enrolTotp(server(), person.id);
    const db = server().app.core.db;
    await db.insertInto('mfa_recovery_codes').values({ id: newId(server().app.core.clock), user_id: person.id, code_hash: recoveryCodeHash('ABCD-EFGH-JKLM'), created_at: Date.now() }).execute();
    const confirmWith = async (code: string) => {
      const started = await startDeviceAuth(server());
      const browser = browserOf(server(), person);
      return confirm(browser, await enterCode(server(), browser, String(started.body.user_code)), code);
    };
    expect((await confirmWith('abcd efgh jklm')).html).toContain('is signed in');
    expect((await confirmWith('ABCD-EFGH-JKLM')).html).toContain('That code is not correct');
  });

  it('one TOTP code confirms one sign-in: two confirmations at the same time with the same code, one succeeds', async () => {
    const person = await createPerson(server(), 'device-race');
    const totp = await enrolTotp(server(), person.id);
    const pages = await Promise.all(
      [0, 1].map(async () => {
        const started = await startDeviceAuth(server());
        const browser = browserOf(server(), person);
        return { started, browser, page: await enterCode(server(), browser, String(started.body.user_code)) };
      }),
    );
    const code = totp.code();
    const results = await Promise.all(pages.map(({ browser, page }) => confirm(browser, page, code)));
    expect(results.filter((r) => r.html?.includes('is signed in'))).toHaveLength(1);
    expect(results.filter((r) => r.html?.includes('That code is not correct'))).toHaveLength(1);
  });

  it('codes live 5 minutes (injected clock): an older code is refused on the page and at the token endpoint', async () => {
    const person = await createPerson(server(), 'device-late');
    vi.useFakeTimers({ toFake: ['Date'] });
    const started = await startDeviceAuth(server());
    expect(started.body.expires_in).toBe(300);
    const browser = browserOf(server(), person);
    vi.setSystemTime(Date.now() + 299_000);
    const inTime = await enterCode(server(), browser, String(started.body.user_code));
    expect(inTime.html).toContain('Only continue if');
    expect(inTime.html).toContain('4 minutes ago');
    vi.setSystemTime(Date.now() + 2_000);
    const late = await confirm(browser, inTime);
    expect(late.html).toContain('has expired');
    expect((await pollDeviceToken(server(), String(started.body.device_code))).body.error).toBe('expired_token');
  });

  it('the device page needs a portal sign-in in this browser first', async () => {
    const started = await startDeviceAuth(server());
    const res = await fetch(`${server().url}/oidc/device`);
    const html = await res.text();
    expect(res.status).toBe(401);
    expect(html).toContain('Sign in to Interim first');
    const post = await fetch(`${server().url}/oidc/device`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user_code=${started.body.user_code}&confirm=yes` });
    expect(post.status).toBe(401);
    expect((await pollDeviceToken(server(), String(started.body.device_code))).body.error).toBe('authorization_pending');
  });

  it('only the CLI client may use the device flow and token exchange; other clients are refused', async () => {
    const publicApp = await createApp(server(), { grantTypes: ['authorization_code', 'refresh_token'], authMethod: 'none' });
    const refused = await startDeviceAuth(server(), publicApp.id);
    expect(refused.status).toBe(400);
    // oidc-provider's answer for a client without the grant type.
    expect(refused.body).toMatchObject({ error: 'invalid_request', error_description: 'urn:ietf:params:oauth:grant-type:device_code is not allowed for this client' });
    const unknown = await startDeviceAuth(server(), 'no-such-client');
    expect(unknown.body.error).toBe('invalid_client');

    const confidential = await createApp(server(), { grantTypes: ['client_credentials'] });
    const exchange = await fetch(`${server().url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidential.id}:${confidential.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'x'.repeat(43), subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: publicApp.id }).toString(),
    });
    expect(exchange.status).toBe(400);
    // oidc-provider's answer for a client without the grant type; the handler would say unauthorized_client.
    expect(await exchange.json()).toMatchObject({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });

    // The built-in client is no application: the applications API neither lists, edits nor deletes it.
    expect((await server().admin.get(`/api/v1/applications/${CLI}`)).status).toBe(400);
    expect((await server().admin.delete(`/api/v1/applications/${CLI}`)).status).toBe(400);
  });

  it('refuses a credentials file other users can read, and a folder open to them', async () => {
    const person = await createPerson(server(), 'device-perms');
    const dir = await signedInCli(server(), person);
    chmodSync(join(dir, 'credentials.json'), 0o644);
    const refused = await runCli(dir, 'requests');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('other users can read it');
    chmodSync(join(dir, 'credentials.json'), 0o600);
    expect((await runCli(dir, 'requests')).code).toBe(0);
    chmodSync(dir, 0o755);
    // Reading still works (the file is 0600); writing (a refresh) needs the folder closed again.
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ ...credentialsOf(dir), access_expires_at: 0 }), { mode: 0o600 });
    const open = await runCli(dir, 'requests');
    expect(open.code).toBe(1);
    expect(open.stderr).toContain('open to other users');
  });

  it('two CLI processes refreshing at the same time both keep working: the lock spends the rotating refresh token once', async () => {
    const person = await createPerson(server(), 'device-lock');
    const dir = await signedInCli(server(), person);
    const before = credentialsOf(dir);
    // The cached access token is due: both processes must refresh.
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ ...before, access_expires_at: 0 }), { mode: 0o600 });
    const both = await Promise.all([runCli(dir, 'requests', '--json'), runCli(dir, 'requests', '--json')]);
    for (const r of both) expect(r.code, r.stderr).toBe(0);
    const after = credentialsOf(dir);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    // The chain is intact: one more refresh works, and no lock file is left behind.
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ ...after, access_expires_at: 0 }), { mode: 0o600 });
    expect((await runCli(dir, 'requests')).code).toBe(0);
    expect(() => statSync(join(dir, 'credentials.lock'))).toThrow();

    // A lock left by a process that died is taken over, not waited on.
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, 'credentials.lock'), JSON.stringify({ pid: gone, at: Date.now() }), { mode: 0o600 });
    writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ ...credentialsOf(dir), access_expires_at: 0 }), { mode: 0o600 });
    const takenOver = await runCli(dir, 'requests');
    expect(takenOver.code, takenOver.stderr).toBe(0);
    expect(() => statSync(join(dir, 'credentials.lock'))).toThrow();
  });

  it('GET and DELETE /api/v1/me/devices: 401 without a caller, 400 naming a bad id, 404 for another user\'s device, one of two concurrent deletes wins', async () => {
    const person = await createPerson(server(), 'device-api');
    const other = await createPerson(server(), 'device-other');
    await signedInCli(server(), person);
    const anonymous = new ApiClient(server().url);
    expect((await anonymous.get('/api/v1/me/devices')).status).toBe(401);
    expect((await anonymous.delete('/api/v1/me/devices/abcdefghijkl')).status).toBe(401);
    const bad = await person.client.delete('/api/v1/me/devices/not*an*id');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('id');
    const [device] = (await person.client.get('/api/v1/me/devices')).body.items as { id: string }[];
    expect((await other.client.delete(`/api/v1/me/devices/${device!.id}`)).status).toBe(404);
    expect((await other.client.get('/api/v1/me/devices')).body.items).toEqual([]);
    const statuses = (await Promise.all([person.client.delete(`/api/v1/me/devices/${device!.id}`), person.client.delete(`/api/v1/me/devices/${device!.id}`)])).map((r) => r.status).sort();
    expect(statuses).toEqual([204, 404]);
    const revoked = await server().app.core.db.selectFrom('audit_events').select('action').where('action', '=', 'oidc.device_revoked').where('actor_id', '=', person.id).execute();
    expect(revoked).toHaveLength(1);
  });

  it('a user who must change their password is refused (403) by the devices API', async () => {
    const email = `pending-${Date.now()}@example.test`;
    const res = await server().admin.post('/api/v1/users', { email, name: 'Pending', password: 'a long enough password', must_change_password: true });
    expect(res.status).toBe(201);
    const client = new ApiClient(server().url);
    expect((await client.signIn(email, 'a long enough password')).status).toBe(200);
    expect((await client.get('/api/v1/me/devices')).status).toBe(403);
  });
});
