import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPerson, PASSWORD } from './helpers/access-fixtures.ts';
import { ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { runCli, signedInCli } from './helpers/cli-session.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

describeEachDialect('portal in Chromium: command-line sign-ins', (server, dialect) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the user’s command-line sign-ins and signs one out, which ends that terminal’s access', async () => {
    const user = await createPerson(server(), 'cli-portal');
    const first = await signedInCli(server(), user);
    const second = await signedInCli(server(), user);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, user.email, PASSWORD, '/tokens');

    const section = page.getByRole('region', { name: 'Command-line sign-ins' });
    const table = section.getByRole('table', { name: 'Your command-line sign-ins' });
    await table.waitFor();
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining(['Signed in', 'Last used', 'Ends']));
    expect(await table.getByRole('row').count()).toBe(3);
    if (dialect === 'sqlite') await screenshot(page, 'portal-cli-devices', { dark: true });

    // Keyboard: the button is reachable and shows focus.
    const signOut = section.getByRole('button', { name: 'Revoke command-line sign-in 1' });
    await signOut.focus();
    expect(await signOut.evaluate((el) => el === document.activeElement)).toBe(true);
    await signOut.click();
    await expect.poll(() => table.getByRole('row').count()).toBe(2);

    // One of the two terminals is signed out (exit 3), the other still works.
    const codes = [(await runCli(first, 'requests')).code, (await runCli(second, 'requests')).code];
    expect(codes.sort()).toEqual([0, 3]);
    expect((await user.client.get('/api/v1/me/devices')).body.items).toHaveLength(1);

    // The phone layout still shows the section.
    await page.setViewportSize(PHONE);
    await section.getByRole('button', { name: 'Revoke command-line sign-in 1' }).waitFor();
    await section.getByRole('button', { name: 'Revoke command-line sign-in 1' }).click();
    await section.getByText('No command-line sign-ins').waitFor();
    expect((await runCli(first, 'requests')).code).toBe(3);
    expect((await runCli(second, 'requests')).code).toBe(3);
    await context.close();
  });
});
