import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import type { TestServer } from './helpers/server.ts';

await ensurePortalBuilt();

/** Readable names for what people (and the screenshots) see. */
async function humanize(server: TestServer, s: AccessSetup) {
  const rename = async (path: string, body: Record<string, unknown>) => expect((await server.admin.patch(path, body)).status).toBe(200);
  await rename(`/api/v1/users/${s.requester.id}`, { name: 'Ada Lovelace' });
  await rename(`/api/v1/users/${s.approver.id}`, { name: 'Grace Hopper' });
  await rename(`/api/v1/users/${s.secondApprover.id}`, { name: 'Alan Turing' });
  await rename(`/api/v1/users/${s.admin.id}`, { name: 'Margaret Hamilton' });
  await rename(`/api/v1/groups/${s.approverGroupId}`, { name: 'On-call leads' });
  await rename(`/api/v1/access-request-templates/${s.templateId}`, { name: 'Production database', description: 'Read and write access to the production cluster.' });
  await rename(`/api/v1/applications/${s.appId}`, { name: 'Postgres (production)' });
}

/**
 * Finding things and names instead of ids, in Chromium: every admin list searches by part of
 * its text (debounced, in the URL, with a clear button and a "no match" state), a user's page
 * names their temporary access and links to its request, and the audit log names and links
 * actors and targets. Keyboard and phone layout included.
 */
describeEachDialect('portal in Chromium: search and names', (server, dialect) => {
  const shots = dialect === dialectsUnderTest()[0];
  const shot = (page: Page, name: string) => (shots ? screenshot(page, name, { dark: true }) : undefined);
  let browser: Browser;
  let s: AccessSetup;
  let requestId: string;
  let scriptName: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    s = await setUpAccess(server());
    await humanize(server(), s);
    expect((await server().admin.post('/api/v1/event-actions', { name: 'CMDB sync', event_types: ['access_request.approved', 'access_request.revoked'], kind: 'webhook', config: { url: 'https://hooks.example.test/cmdb' } })).status).toBe(201);
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect(submitted.status).toBe(201);
    requestId = submitted.body.id;
    expect((await s.approver.client.post(`/api/v1/access-requests/${requestId}/approve`, {})).status).toBe(200);
    // A second of each kind, which each search must leave out.
    expect((await server().admin.post('/api/v1/applications', { name: 'Billing portal', redirect_uris: ['http://127.0.0.1:9/cb'], first_party: true })).status).toBe(201);
    await s.template({ name: 'Staging shell', description: 'A shell on the staging hosts.' });
    expect((await server().admin.post('/api/v1/scripts', { name: 'Notify pager', source: 'export default async () => ({ ok: true })' })).status).toBe(201);
    expect((await server().admin.post('/api/v1/event-actions', { name: 'Audit feed', event_types: ['access_request.submitted'], kind: 'webhook', config: { url: 'https://hooks.example.test/feed' } })).status).toBe(201);
    scriptName = `Provision LDAP ${dialect}`;
    expect((await server().admin.post('/api/v1/scripts', { name: scriptName, source: 'export default async () => ({ ok: true })' })).status).toBe(201);
    await server().app.runWorkerOnce();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const searchOf = (page: Page, label: string) => page.getByRole('search').getByLabel(label);

  it('searches every admin list by part of its text, with the search in the URL', { timeout: 120_000 }, async () => {
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/users');

    // Users: part of a name, any case; the URL keeps the search.
    const users = searchOf(page, 'Search users by email or name');
    await users.fill('LOVEL');
    await page.waitForURL(/\/admin\/users\?q=LOVEL$/);
    const table = page.getByRole('table', { name: 'Users' });
    await table.getByRole('link', { name: 'Ada Lovelace' }).waitFor();
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    await shot(page, 'users-search');

    // No match: said plainly, with a way out.
    await users.fill('nobody-has-this');
    await page.getByText('No match for “nobody-has-this”').waitFor();
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.waitForURL(/\/admin\/users$/);
    await expect.poll(() => users.inputValue()).toBe('');
    await table.getByRole('link', { name: 'Grace Hopper' }).waitFor();

    // Every other list: one match shown, another row gone.
    const lists: [path: string, label: string, text: string, shown: string, hidden: string][] = [
      ['/admin/groups', 'Search groups by name or description', 'on-CALL', 'On-call leads', 'db-admins'],
      ['/admin/applications', 'Search applications by name or client id', 'postgres (', 'Postgres (production)', 'Billing portal'],
      ['/admin/templates', 'Search templates by name or description', 'PRODUCTION CLUSTER', 'Production database', 'Staging shell'],
      ['/admin/scripts', 'Search scripts by name', 'ldap', scriptName, 'Notify pager'],
      ['/admin/event-actions', 'Search event actions by name or event', 'revoked', 'CMDB sync', 'Audit feed'],
    ];
    for (const [path, label, text, shown, hidden] of lists) {
      await page.goto(path);
      // Before the search, both are listed.
      await page.getByRole('link', { name: new RegExp(`^${hidden}`) }).first().waitFor();
      await searchOf(page, label).fill(text);
      await page.waitForURL((url) => url.pathname === path && url.searchParams.get('q') === text);
      await page.getByRole('link', { name: shown, exact: true }).waitFor();
      await expect.poll(() => page.getByRole('link', { name: new RegExp(`^${hidden}`) }).count(), { message: path }).toBe(0);
      // Coming back to the URL shows the same search.
      await page.reload();
      await expect.poll(() => searchOf(page, label).inputValue(), { message: path }).toBe(text);
      await page.getByRole('link', { name: shown, exact: true }).waitFor();
    }

    // Deliveries: by part of a target (the approver's address).
    await page.goto('/admin/deliveries');
    await searchOf(page, 'Search deliveries by channel, target or event').fill(s.approver.email.toUpperCase());
    const deliveries = page.getByRole('table', { name: 'Deliveries' });
    await page.waitForURL((url) => url.searchParams.get('q') === s.approver.email.toUpperCase());
    await expect.poll(() => deliveries.getByText(`:${s.secondApprover.email}`).count()).toBe(0);
    await deliveries.getByText(`:${s.approver.email}`).first().waitFor();

    // An event action's delivery names the action, linked, not `action:<id>`.
    await searchOf(page, 'Search deliveries by channel, target or event').fill('webhook');
    await page.waitForURL((url) => url.searchParams.get('q') === 'webhook');
    const toAction = deliveries.getByRole('link', { name: 'CMDB sync' }).first();
    await toAction.waitFor();
    expect(await toAction.getAttribute('href')).toMatch(/^\/admin\/event-actions\/[0-9a-f-]{36}$/);
    expect(await deliveries.textContent()).not.toMatch(/action:[0-9a-f]{8}/);

    // The audit log: by an actor's name.
    await page.goto('/admin/audit');
    await searchOf(page, 'Search the audit log').fill('grace hop');
    await page.waitForURL(/\?q=grace\+hop$|\?q=grace%20hop$/);
    const audit = page.getByRole('table', { name: 'Audit events' });
    await audit.getByRole('cell', { name: /access_request\.approved/ }).waitFor();
    // Each event found has Grace Hopper as its actor or its target.
    await expect.poll(async () => (await audit.locator('tbody tr').allTextContents()).every((row) => row.includes('Grace Hopper'))).toBe(true);
    await context.close();
  });

  it('works from the keyboard: Enter searches at once, Escape and the clear button clear', async () => {
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/groups');
    const box = searchOf(page, 'Search groups by name or description');
    await box.focus();
    await page.keyboard.type('approv');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?q=approv$/);
    await page.keyboard.press('Escape');
    await page.waitForURL(/\/admin\/groups$/);
    await expect.poll(() => box.inputValue()).toBe('');
    // The clear button is the next stop after the field, and shows its focus.
    await page.keyboard.type('managers');
    await page.keyboard.press('Tab');
    const clear = page.getByRole('button', { name: 'Clear the search' });
    await expect.poll(() => clear.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await clear.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/groups$/);
    await context.close();
  });

  it("names a user's temporary access by template and application, linked to its request", async () => {
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, `/admin/users/${s.requester.id}`);
    const access = page.getByRole('region', { name: 'Temporary access' });
    const link = access.getByRole('link', { name: 'Production database' });
    expect(await link.getAttribute('href')).toBe(`/requests/${requestId}`);
    expect(await access.getByRole('link', { name: 'Postgres (production)' }).getAttribute('href')).toBe(`/admin/applications/${s.appId}`);
    expect(await page.content()).not.toContain('__access_req_');
    await link.click();
    await page.waitForURL(`**/requests/${requestId}`);
    await context.close();
  });

  it('shows actor and target names with links in the audit log, and exports them', async () => {
    const { context, page } = await newPerson(browser, server());
    // The request's own events (its deliveries' events aside), found by the search box.
    await signIn(page, s.admin.email, PASSWORD, `/admin/audit?request_id=${requestId}&q=access_request.`);
    const audit = page.getByRole('table', { name: 'Audit events' });
    const approved = audit.getByRole('row').filter({ hasText: 'access_request.approved' });
    expect(await approved.getByRole('link', { name: 'Grace Hopper' }).getAttribute('href')).toBe(`/admin/users/${s.approver.id}`);
    expect(await approved.getByText(s.approver.email).count()).toBe(1);
    expect(await approved.getByRole('link', { name: 'Production database' }).getAttribute('href')).toBe(`/requests/${requestId}`);
    // No raw ids stand in for names.
    expect(await audit.textContent()).not.toContain(s.approver.id);
    await shot(page, 'audit-log');

    const href = await page.getByRole('link', { name: 'CSV' }).getAttribute('href');
    const csv = await page.evaluate((h) => fetch(h).then((r) => r.text()), href!);
    const [header, ...rows] = csv.trim().split('\r\n');
    expect(header!.endsWith(',actor_email,actor_name,target_name')).toBe(true);
    expect(rows.find((r) => r.includes('access_request.approved'))!.endsWith(`,${s.approver.email},Grace Hopper,Production database`)).toBe(true);

    // Names link across: the template from its own events.
    await page.goto(`/admin/audit?q=${encodeURIComponent('Production database')}`);
    const templateLink = audit.getByRole('link', { name: 'Production database' }).first();
    await templateLink.waitFor();
    await context.close();
  });

  it('keeps the phone layout: the search box fits and the lists stay usable', async () => {
    const { context, page } = await newPerson(browser, server(), PHONE);
    await signIn(page, s.admin.email, PASSWORD, '/admin/users?q=hopper');
    const box = searchOf(page, 'Search users by email or name');
    await expect.poll(() => box.inputValue()).toBe('hopper');
    await page.getByRole('link', { name: 'Grace Hopper' }).waitFor();
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    expect(fits).toBe(true);
    const boxWidth = (await box.boundingBox())!.width;
    expect(boxWidth).toBeGreaterThan(150);
    expect(boxWidth).toBeLessThanOrEqual(PHONE.width);
    await page.goto('/admin/audit');
    await searchOf(page, 'Search the audit log').fill('Lovelace');
    await page.getByRole('table', { name: 'Audit events' }).getByRole('link', { name: 'Ada Lovelace' }).first().waitFor();
    await context.close();
  });
});
