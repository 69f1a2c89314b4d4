import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, setUpAccess } from './helpers/access-fixtures.ts';
import { byLabel, describedError, ensurePortalBuilt, launchBrowser, newPerson, PHONE, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

const invalid = (page: Page, label: string) => byLabel(page, label).getAttribute('aria-invalid');


describeEachDialect('portal in Chromium: forms, roles, sign-in and layout', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the API’s field errors next to the fields of the request form', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.requester.email, PASSWORD, `/request/${s.templateId}`);
    await page.getByRole('button', { name: 'Submit request' }).click();
    // Every problem at once, checked in the browser before sending: the justification and the required field.
    await page.getByRole('alert').getByText('Please correct the 2 fields marked below.').waitFor();
    expect(await invalid(page, 'Justification')).toBe('true');
    expect(await describedError(page, 'Justification')).toBe('Enter a justification');
    expect(await invalid(page, 'Incident ticket')).toBe('true');
    expect(await describedError(page, 'Incident ticket')).toBe('Enter an incident ticket');

    await page.getByLabel('Justification').fill('need it');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.getByRole('alert').getByText('Please correct the field marked below.').waitFor();
    expect(await invalid(page, 'Incident ticket')).toBe('true');
    expect(await invalid(page, 'Justification')).toBeNull();

    await page.getByLabel('Incident ticket').fill('INC-9');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    // A second one while the first is pending is refused, with a way to the open one.
    await page.goto(`/request/${s.templateId}`);
    await page.getByLabel('Justification').fill('again');
    await page.getByLabel('Incident ticket').fill('INC-9');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.getByRole('link', { name: 'Open your pending request' }).waitFor();
    await context.close();
  });

  it('shows field errors in the template editor', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/templates/new');
    await page.getByRole('heading', { name: 'Custom fields' }).waitFor();
    await page.getByRole('button', { name: 'Add a field' }).click();
    await page.getByLabel('Key').fill('Bad Key');
    await page.getByRole('button', { name: 'Create template' }).click();
    // The required fields first, in the browser; then what only the API checks.
    await page.getByRole('alert').getByText(/Please correct the \d+ fields marked below/).waitFor();
    expect(await invalid(page, 'Name')).toBe('true');
    expect(await invalid(page, 'Application')).toBe('true');
    expect(await invalid(page, 'Label')).toBe('true');
    await byLabel(page, 'Name').fill(`Errors ${Date.now()}`);
    await byLabel(page, 'Application').selectOption(s.appId);
    await byLabel(page, 'Label').fill('Ticket');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('alert').getByText(/Please correct the \d+ fields marked below/).waitFor();
    expect(await invalid(page, 'Key')).toBe('true');
    expect(await describedError(page, 'Key')).toMatch(/lowercase letter/);
    await context.close();
  });

  it('keeps non-admins out of the admin pages', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.requester.email, PASSWORD);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count()).toBe(0);
    for (const path of ['/admin', '/admin/users', `/admin/templates/${s.templateId}`, '/admin/audit']) {
      await page.goto(path);
      await page.getByRole('heading', { name: 'Administrators only' }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Administration' }).count()).toBe(0);
    }
    // The API says no as well.
    expect(await page.evaluate(() => fetch('/api/v1/users').then((r) => r.status))).toBe(403);

    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, '/admin/users');
    await admin.page.getByRole('navigation', { name: 'Administration' }).waitFor();
    await admin.page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await Promise.all([context.close(), admin.context.close()]);
  });

  it('shows a new client secret once, and an approver can deny with a comment', async () => {
    const s = await setUpAccess(server());
    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, '/admin/applications');
    await admin.page.getByText('Add an application').click();
    await byLabel(admin.page, 'Name').fill(`wiki-${Date.now()}`);
    await byLabel(admin.page, 'Redirect URIs').fill('https://wiki.example.com/callback');
    await admin.page.getByRole('button', { name: 'Add application' }).click();
    const secret = await admin.page.getByTestId('secret-value').textContent();
    expect(secret?.length).toBeGreaterThan(20);
    await admin.page.getByRole('button', { name: 'I have stored it' }).click();
    await admin.page.getByRole('heading', { name: 'Mappings' }).waitFor();
    expect(await admin.page.content()).not.toContain(secret!);

    const submitted = await s.requester.client.post('/api/v1/access-requests', { template_id: s.templateId, duration_mins: 60, justification: 'x', fields: { ticket: 'T-1' } });
    const approver = await newPerson(browser, server());
    await signIn(approver.page, s.approver.email, PASSWORD, `/requests/${submitted.body.id}`);
    await approver.page.getByRole('button', { name: 'Deny' }).click();
    expect(await describedError(approver.page, 'Comment')).toContain('Say why');
    await byLabel(approver.page, 'Comment').fill('Use the read replica instead.');
    await approver.page.getByRole('button', { name: 'Deny' }).click();
    await approver.page.getByText('Denied by').waitFor();
    expect((await s.requester.client.get(`/api/v1/access-requests/${submitted.body.id}`)).body).toMatchObject({ status: 'denied', decision_comment: 'Use the read replica instead.' });
    await Promise.all([admin.context.close(), approver.context.close()]);
  });

  it('asks for a new password first when an admin set it, and signs out of both portal and API', async () => {
    const s = await setUpAccess(server());
    await server().app.core.db.updateTable('users').set({ must_change_password: 1 }).where('id', '=', s.outsider.id).execute();
    const { context, page } = await newPerson(browser, server());
    await page.goto('/');
    await page.getByLabel('Email').fill(s.outsider.email);
    await page.getByLabel('Password').fill('wrong password!!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('Current password').fill(PASSWORD);
    await byLabel(page, 'New password').fill('short');
    await page.getByLabel('Repeat the new password').fill('short');
    await page.getByRole('button', { name: 'Change password' }).click();
    // The error appears once the API has answered; poll rather than read straight after the click.
    await expect.poll(() => describedError(page, 'New password')).not.toBe('');
    const fresh = 'a brand new long password';
    await byLabel(page, 'New password').fill(fresh);
    await page.getByLabel('Repeat the new password').fill(fresh);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Request access', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => fetch('/api/v1/session').then((r) => r.status))).toBe(401);
    await context.close();
  });

  it('works with the keyboard: skip link first, visible focus', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.requester.email, PASSWORD);
    // A fresh page load, so the keyboard starts at the top of the document.
    await page.goto('/');
    await page.getByRole('heading', { name: 'Request access', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).toBe('solid');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    // Into the first card's link and on to the form, keyboard only (once the catalogue has loaded).
    await page.getByRole('link', { name: /^Request access\b.+/ }).first().waitFor();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    expect(focused).toMatch(/^Request access: /);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: /Submit request/ }).waitFor();
    await context.close();
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server(), PHONE);
    await signIn(page, s.requester.email, PASSWORD);
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await page.getByRole('heading', { name: 'Request access', level: 1 }).waitFor();
    expect(await fits()).toBe(true);
    await page.goto(`/request/${s.templateId}`);
    await page.getByLabel('Justification').waitFor();
    expect(await fits()).toBe(true);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    expect(await fits()).toBe(true);
    await context.close();
  });
});
