import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestServer } from './server.ts';

/**
 * Headless Chromium for the portal tests: Debian's /usr/bin/chromium driven by
 * playwright-core, which never downloads a browser of its own. The server runs in the
 * test process, so vi.setSystemTime moves its clock; the browser keeps real time.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage'];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export const LAPTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser profile (its own cookies) pointed at the server: one person. */
export async function newPerson(browser: Browser, server: TestServer, viewport = LAPTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: server.url, viewport, locale: 'en-GB', timezoneId: 'UTC', reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  return { context, page };
}

/** Signs in through the portal's own sign-in form; `totpCode` answers the second step of a user with an authenticator app. */
export async function signIn(page: Page, email: string, password: string, path = '/', totpCode?: () => string): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (totpCode) {
    await page.getByLabel('Code from your authenticator app').fill(totpCode());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Waits until the page's live stream (GET /api/v1/live) is connected. */
export async function liveConnected(page: Page): Promise<void> {
  await page.locator('[data-live="open"]').waitFor({ timeout: 10_000 });
}

export const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Saves a screenshot for the docs, only when SAVE_SCREENSHOTS=1 (`npm run screenshots`),
 * so ordinary test runs leave the working tree alone. `dark` also saves `<name>-dark.png`.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean; dark?: boolean } = {}): Promise<void> {
  if (process.env.SAVE_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  const viewport = page.viewportSize()!;
  // A whole page is shot as one tall viewport, so sticky bars stay where they belong.
  if (opts.fullPage) await page.setViewportSize({ width: viewport.width, height: await page.evaluate(() => document.documentElement.scrollHeight) });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, animations: 'disabled' });
  if (opts.dark) {
    // The portal follows the system setting: the same page, as a dark-mode system shows it.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${SCREENSHOTS}${name}-dark.png`, animations: 'disabled' });
    await page.emulateMedia({ colorScheme: 'light' });
  }
  if (opts.fullPage) await page.setViewportSize(viewport);
}

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * `npm test` builds the portal first (pretest). A direct `vitest run` on a fresh clone
 * has no build yet: make one, into a temporary folder renamed into place so parallel
 * test files never see half a build. Call it before the server starts (at the top of
 * the test file), since the server lists the built files when it starts.
 */
export async function ensurePortalBuilt(): Promise<void> {
  if (existsSync(`${WEB}dist/index.html`)) return;
  const { build } = await import('vite');
  const tmp = `${WEB}dist.tmp-${process.pid}`;
  // vitest sets NODE_ENV=test, which would give React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: WEB, mode: 'production', logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    if (!existsSync(`${WEB}dist/index.html`)) {
      rmSync(`${WEB}dist`, { recursive: true, force: true });
      renameSync(tmp, `${WEB}dist`);
    }
  } finally {
    process.env.NODE_ENV = nodeEnv;
    rmSync(tmp, { recursive: true, force: true });
  }
  expect(existsSync(`${WEB}dist/index.html`)).toBe(true);
}

/**
 * The control labelled exactly `label`. Required fields show a " *" that is aria-hidden
 * (screen readers hear "required" from aria-required instead); Playwright's label text
 * keeps it, so it is allowed here.
 */
export function byLabel(page: Page, label: string) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByLabel(new RegExp(`^${escaped}( \\*)?$`));
}

/** The field's error text, found through the control's aria-describedby (what a screen reader reads). */
export async function describedError(page: Page, label: string): Promise<string> {
  return byLabel(page, label).evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id))
      .filter((n) => n?.classList.contains('field-error'))
      .map((n) => n!.textContent)
      .join(' '),
  );
}
