import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPerson, PASSWORD } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

describeEachDialect('portal in Chromium: API tokens', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lets a user create a token within the limit, see it and revoke it; an admin sees everyone’s', async () => {
    const user = await createPerson(server(), 'tokens-user');
    const admin = await createPerson(server(), 'tokens-admin', { isAdmin: true });
    const { context, page } = await newPerson(browser, server());
    await signIn(page, user.email, PASSWORD, '/tokens');

    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    await page.getByText('Tokens of your account may live at most 90 days.').waitFor();
    // No "never" for a user with a limit.
    const choices = await byLabel(page, 'Expires after').locator('option').allTextContents();
    expect(choices).toEqual(['7 days', '30 days', '90 days']);
    await byLabel(page, 'Name').fill('laptop script');
    await byLabel(page, 'Expires after').selectOption({ label: '90 days' });
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByTestId('secret-value').textContent())!;
    expect(secret).toMatch(/^itk_/);
    const bearer = new ApiClient(server().url).withToken(secret);
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(200);
    await page.getByRole('cell', { name: 'laptop script', exact: true }).waitFor();

    // An admin lists everyone's, with the owner.
    const adminView = await newPerson(browser, server());
    await signIn(adminView.page, admin.email, PASSWORD, '/tokens');
    await adminView.page.getByLabel('Show everyone’s tokens').check();
    const row = adminView.page.getByRole('row', { name: /laptop script/ });
    await row.getByRole('cell', { name: user.email }).waitFor();
    await adminView.context.close();

    // The owner revokes it (newPerson's page accepts the confirmation); it stops working at once.
    await page.getByRole('button', { name: 'Revoke laptop script' }).click();
    await page.getByText('You have no API tokens').waitFor();
    expect((await bearer.get('/api/v1/api-tokens')).status).toBe(401);
    await context.close();
  });
});
