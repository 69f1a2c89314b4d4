import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

const MIN = 60_000;

/**
 * Extending an active grant in real browsers (issue 12 §2): the expiry notice opens the
 * extension form, the approver approves the extension, the grant's page shows the new
 * end, the request form points at the active grant, and the template editor sets the
 * extension attributes.
 */
describeEachDialect('portal: extending an active grant in Chromium', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expiry notice → extension form → approval → new end; the request form points at the grant', { timeout: 120_000 }, async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = await setUpAccess(server());
    const templateId = await s.template({ allowed_durations: [60, 120], allow_extension: true, max_total_mins: 150 });
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    const approved = await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {});
    expect(approved.status).toBe(200);
    const grantId = submitted.body.id as string;
    const expiresAt = Date.parse(approved.body.expires_at);

    // Ten minutes before the end the worker sends the expiry notice.
    vi.setSystemTime(expiresAt - 10 * MIN);
    await server().app.runWorkerOnce();

    const requester = await newPerson(browser, server());
    const rp = requester.page;
    await signIn(rp, s.requester.email, PASSWORD, '/notifications');
    await rp.getByRole('link', { name: 'Your access expires soon' }).click();
    await rp.waitForURL(`**/requests/${grantId}?extend=1`);
    const heading = rp.getByRole('heading', { name: 'Extend this access' });
    await heading.waitFor();
    // Opened from the notice, the form is where the focus is.
    expect(await heading.evaluate((el) => el === document.activeElement)).toBe(true);
    const form = rp.getByRole('form', { name: 'Extend this access' });
    // Only the hour fits: two more hours would pass the 150-minute total.
    expect(await form.getByRole('radio').count()).toBe(1);
    // Nothing without a justification.
    await form.getByRole('button', { name: 'Ask for more time' }).click();
    await form.getByText('is required: say why the access is needed for longer').waitFor();
    await form.getByLabel('1 hour').check();
    await form.getByLabel(/^Why do you need it for longer\?( \*)?$/).fill('The migration runs over');
    await form.getByRole('button', { name: 'Ask for more time' }).click();
    await rp.getByText('Asks to extend').waitFor();
    const extensionId = /\/requests\/([0-9a-f-]{36})$/.exec(new URL(rp.url()).pathname)?.[1];
    expect(extensionId).toBeDefined();
    expect(extensionId).not.toBe(grantId);
    await rp.getByText('Pending', { exact: true }).first().waitFor();

    // The approver finds it in the inbox, marked as an extension, and approves it from its page.
    const approver = await newPerson(browser, server());
    const ap = approver.page;
    await signIn(ap, s.approver.email, PASSWORD, '/inbox');
    await ap.locator(`[data-request-id="${extensionId}"]`).getByText('1 hour more (extension of an active grant)').waitFor();
    await ap.goto(`/requests/${extensionId}`);
    await ap.getByText('Asks to extend').waitFor();
    await ap.getByRole('button', { name: 'Approve' }).click();
    await ap.getByText('the grant now lasts until').waitFor();
    const row = await server().app.core.db.selectFrom('access_requests').select('expires_at').where('id', '=', grantId).executeTakeFirstOrThrow();
    expect(row.expires_at).toBe(expiresAt + 60 * MIN);

    // The requester's grant page: the new end, and no room for another hour (150 minutes in all).
    await rp.goto(`/requests/${grantId}`);
    await rp.getByText(new Date(expiresAt + 60 * MIN).toISOString().slice(11, 16), { exact: false }).first().waitFor();
    await rp.getByText('This grant has reached the longest time its template allows').waitFor();

    // Asking again from the catalogue form points at the active grant.
    await rp.goto(`/request/${templateId}`);
    await rp.getByLabel('Justification').fill('again');
    await rp.getByLabel('Incident ticket').fill('INC-1');
    await rp.getByRole('button', { name: 'Submit request' }).click();
    await rp.getByRole('link', { name: 'Extend your active grant' }).click();
    await rp.waitForURL(`**/requests/${grantId}?extend=1`);
    await requester.context.close();
    await approver.context.close();
  });

  it('the template editor sets the extension attributes', { timeout: 60_000 }, async () => {
    const s = await setUpAccess(server());
    const templateId = await s.template({ allowed_durations: [60, 120] });
    const admin = await newPerson(browser, server());
    const page = admin.page;
    await signIn(page, s.admin.email, PASSWORD, `/admin/templates/${templateId}`);
    await page.getByLabel('Let requesters extend an active grant').check();
    await page.getByLabel('Longest total (minutes)').fill('480');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText(/Saved as version/).waitFor();
    const saved = await server().admin.get(`/api/v1/access-request-templates/${templateId}`);
    expect(saved.body).toMatchObject({ allow_extension: true, extension_requires_approval: true, max_total_mins: 480 });
    // An approval-free extension on a template that is not auto-approved is refused, at the field.
    await page.getByLabel('Extensions need approval').uncheck();
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.locator('.field-error').filter({ hasText: 'may be false only on an auto_approve template' }).waitFor();
    await admin.context.close();
  });
});
