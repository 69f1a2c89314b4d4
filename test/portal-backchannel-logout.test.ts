import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/server.ts';

await ensurePortalBuilt();

/** The application editor's back-channel logout fields (issue 13 §1), in Chromium. */
describeEachDialect('portal in Chromium: back-channel logout in the application editor', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('sets, shows the API’s error next to the field for, and clears a logout URI', async () => {
    const name = `bcl-portal-${Date.now()}`;
    const created = await server().admin.post('/api/v1/applications', { name, redirect_uris: ['https://wiki.example.com/callback'] });
    expect(created.status).toBe(201);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, `/admin/applications/${created.body.id}`);

    // A private address is refused by the outbound policy; the error sits at the field.
    await byLabel(page, 'Back-channel logout URI').fill('https://10.1.2.3/logout');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('must not point at a loopback, private or other non-public address', { exact: true }).waitFor();
    expect(await byLabel(page, 'Back-channel logout URI').getAttribute('aria-invalid')).toBe('true');

    await byLabel(page, 'Back-channel logout URI').fill('https://wiki.example.com/oidc/backchannel-logout');
    await byLabel(page, 'Logout tokens carry the session id (sid)').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await server().admin.get(`/api/v1/applications/${created.body.id}`)).body).toMatchObject({
      backchannel_logout_uri: 'https://wiki.example.com/oidc/backchannel-logout',
      backchannel_logout_session_required: true,
    });

    // Shown again after a reload; emptying the field removes the URI.
    await page.reload();
    expect(await byLabel(page, 'Back-channel logout URI').inputValue()).toBe('https://wiki.example.com/oidc/backchannel-logout');
    expect(await byLabel(page, 'Logout tokens carry the session id (sid)').isChecked()).toBe(true);
    await byLabel(page, 'Back-channel logout URI').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await server().admin.get(`/api/v1/applications/${created.body.id}`)).body.backchannel_logout_uri).toBeNull();
    await context.close();
  });
});
