import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SESSION_COOKIE } from '../../src/http/auth.ts';
import { CLI_CLIENT_ID, DEVICE_CODE_GRANT } from '../../src/oidc/cli-client.ts';
import type { Person } from './access-fixtures.ts';
import { repoRoot, runInterim, type ProcessResult } from './interim-process.ts';
import { Browser, parseForm, type Stop } from './oidc-browser.ts';
import type { TestServer } from './server.ts';

export const CLI = CLI_CLIENT_ID;
export const DEVICE_GRANT = DEVICE_CODE_GRANT;

/** A fresh config folder for one CLI user (INTERIM_CONFIG_DIR). */
export function configFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'interim-cli-')), 'interim');
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** Runs the CLI (`interim …`) to its end with this config folder. */
export const runCli = (dir: string, ...args: string[]): Promise<ProcessResult> => runInterim(args, { INTERIM_CONFIG_DIR: dir, HOME: dir });

/** `interim …` running in the background, its stderr readable as it comes (login prints the code there). */
export function startCli(dir: string, ...args: string[]) {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', INTERIM_CONFIG_DIR: dir, HOME: dir },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<ProcessResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  // Real time (performance.now): a test may move the fake Date meanwhile.
  const printed = async (pattern: RegExp, timeoutMs = 30_000): Promise<string> => {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(stderr);
      if (match) return match[1]!;
      if (performance.now() > until || child.exitCode !== null) throw new Error(`nothing like ${pattern} printed:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    done,
    stderr: () => stderr,
    kill: () => child.kill('SIGKILL'),
    /** The first group of `pattern` once the CLI has printed it on stderr. */
    printed,
    /** The user code the CLI printed. */
    userCode: (timeoutMs = 30_000) => printed(/enter the code (\S+)/, timeoutMs),
  };
}

/** A browser signed in to the portal as `person` (their session cookie). */
export function browserOf(server: TestServer, person: Person): Browser {
  const browser = new Browser(server.url);
  const cookie = person.client.cookieHeader.split('; ').find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (cookie) browser.setCookie(SESSION_COOKIE, cookie.slice(SESSION_COOKIE.length + 1));
  return browser;
}

/** Starts a device authorization as the CLI does; answers the provider's JSON. */
export async function startDeviceAuth(server: TestServer, clientId = CLI, scope = 'openid email offline_access') {
  const res = await fetch(`${server.url}/oidc/device/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, scope }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string | number> };
}

/** Polls the token endpoint once for a device code. */
export async function pollDeviceToken(server: TestServer, deviceCode: string, clientId = CLI) {
  const res = await fetch(`${server.url}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string | number> };
}

/** The user's side: opens the device page, enters the code; answers the confirm page. */
export async function enterCode(server: TestServer, browser: Browser, userCode: string): Promise<Stop> {
  const input = await browser.navigate(`${server.url}/oidc/device`);
  expect(input.status, input.html).toBe(200);
  const form = parseForm(input.html!);
  return browser.navigate(form.action, { form: { ...form.fields, user_code: userCode } });
}

/** Confirms on the confirm page (with a second-factor code when given). */
export async function confirm(browser: Browser, page: Stop, secondFactor?: string): Promise<Stop> {
  const form = parseForm(page.html!);
  return browser.navigate(form.action, { form: { ...form.fields, confirm: 'yes', ...(secondFactor !== undefined ? { second_factor: secondFactor } : {}) } });
}

/** The whole device sign-in, the test playing both sides; answers the CLI's tokens. */
export async function deviceTokens(server: TestServer, person: Person, secondFactor?: () => string) {
  const started = await startDeviceAuth(server);
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const browser = browserOf(server, person);
  const page = await enterCode(server, browser, String(started.body.user_code));
  const done = await confirm(browser, page, secondFactor?.());
  expect(done.html).toContain('is signed in');
  const tokens = await pollDeviceToken(server, String(started.body.device_code));
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return tokens.body as { access_token: string; refresh_token: string; expires_in: number };
}

/** Writes the CLI's credentials file as `interim login` would (0600 in the 0700 folder). */
export function writeCredentials(dir: string, server: TestServer, tokens: { access_token: string; refresh_token: string; expires_in: number }, email?: string): void {
  const file = join(dir, 'credentials.json');
  writeFileSync(
    file,
    JSON.stringify({
      server: server.url,
      client_id: CLI,
      token_endpoint: `${server.url}/oidc/token`,
      revocation_endpoint: `${server.url}/oidc/token/revocation`,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      access_expires_at: Date.now() + tokens.expires_in * 1000,
      email,
    }),
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
}

/** A CLI signed in as `person`: its config folder, ready for runCli. */
export async function signedInCli(server: TestServer, person: Person, secondFactor?: () => string): Promise<string> {
  const dir = configFolder();
  writeCredentials(dir, server, await deviceTokens(server, person, secondFactor), person.email);
  return dir;
}
