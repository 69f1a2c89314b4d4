import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createGroup, createPerson, PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser as HttpBrowser } from './helpers/oidc-browser.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

await ensurePortalBuilt();

const S = 1000;

/**
 * Issue 14 §6 in Chromium: the Insights page shows the figures of a small scripted history
 * (a rubber-stamped approval used 60 s after activation, a considered denial, standing access),
 * its filters live in the URL, the CSV links carry them, and it works by keyboard and on a phone.
 */
describeEachDialect('portal in Chromium: insights', (server, dialect) => {
  const shots = dialect === dialectsUnderTest()[0];
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

  it('shows the known figures, filters by URL, links the CSV, and works by keyboard and on a phone', { timeout: 120_000 }, async () => {
    const T = Date.parse(dialect === 'sqlite' ? '2031-06-01T12:00:00Z' : '2031-07-01T12:00:00Z');
    const day = new Date(T).toISOString().slice(0, 10);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T - 60 * S);
    const s = await setUpAccess(server());
    const second = await createPerson(server(), 'second-requester');
    const veteran = await createPerson(server(), 'veteran');
    const templateName = `Insights demo ${dialect}`;
    const templateId = await s.template({ name: templateName });
    const standingGroup = await createGroup(server(), 'dba-team', [veteran.id]);
    expect((await server().admin.post('/api/v1/mappings', { app_id: s.appId, claim: 'role', value: 'prod-admin', group_ids: [standingGroup] })).status).toBe(201);

    // A rubber-stamped approval (10 s, no comment), used 60 s after activation; a denial after 300 s.
    vi.setSystemTime(T);
    const first = (await s.requester.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string;
    const denied = (await second.client.post('/api/v1/access-requests', validRequest(templateId))).body.id as string;
    vi.setSystemTime(T + 10 * S);
    expect((await s.approver.client.post(`/api/v1/access-requests/${first}/approve`, {})).status).toBe(200);
    vi.setSystemTime(T + 70 * S);
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    await codeFlow(await relyingParty(server(), app), new HttpBrowser(server().url), app, { email: s.requester.email, password: PASSWORD });
    vi.setSystemTime(T + 300 * S);
    expect((await s.approver.client.post(`/api/v1/access-requests/${denied}/deny`, { comment: 'use the read replica' })).status).toBe(200);
    vi.setSystemTime(T + 600 * S);

    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/insights');
    await page.getByRole('heading', { level: 1, name: 'Insights' }).waitFor();
    // The section menu leads here.
    expect(await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Insights' }).getAttribute('aria-current')).toBe('page');

    // Filters by keyboard: the range of the history's day and the template.
    await page.getByLabel('From (date)').fill(day);
    await page.getByLabel('To (date)').fill(day);
    await byLabel(page, 'Template').selectOption({ label: templateName });
    await byLabel(page, 'Template').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Show');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('template_id') === templateId);
    const url = new URL(page.url());
    expect([url.searchParams.get('from'), url.searchParams.get('to')]).toEqual([day, day]);

    // The known figures.
    const figures = page.getByRole('definition');
    await page.locator('p.muted', { hasText: 'Requests submitted from' }).waitFor();
    const overall = page.locator('.insights-figure');
    const figure = async (label: string) => (await overall.filter({ hasText: label }).first().locator('dd').textContent())?.trim();
    expect(await figure('Requests')).toBe('2');
    expect(await figure('Approval rate')).toBe('50%');
    expect(await figure('Median time to decision')).toBe('2.6 min');
    expect(await figure('p90 time to decision')).toBe('4.5 min');
    expect(await figure('Never used')).toBe('0');
    expect(await figure('Median time to first use')).toBe('1 min');
    expect(await figures.count()).toBe(9);

    // Each chart has an accessible name; its numbers are in the table below it.
    await page.getByRole('img', { name: 'Time to decision per template: median (bar) and p90 (line)' }).waitFor();
    await page.getByRole('img', { name: 'Granted time used before the last token, per template' }).waitFor();
    const perTemplate = page.getByRole('table', { name: 'Figures per template' });
    expect(await perTemplate.getByRole('row').nth(1).innerText()).toMatch(new RegExp(`^${templateName}\\s+2\\s+50%\\s+2\\.6 min\\s+4\\.5 min\\s+0\\s+0\\s+1\\s+0\\s+1 min`));

    const approvers = page.getByRole('table', { name: 'Decisions per approver' });
    const approverRow = approvers.getByRole('row', { name: new RegExp(s.approver.email) });
    expect(await approverRow.getByRole('cell').allInnerTexts()).toEqual(['2', '1', '1', '2.6 min', '1', '⚑ 1 within 30 s']);

    const grants = page.getByRole('table', { name: 'Usage per grant' });
    expect(await grants.getByRole('row').count()).toBe(2);
    expect(await grants.getByRole('row').nth(1).innerText()).toContain(s.requester.email);
    expect(await grants.getByRole('row').nth(1).innerText()).toContain('1 min');

    const standing = page.getByRole('table', { name: 'Permanent memberships carrying values templates grant temporarily' });
    expect(await standing.getByRole('row', { name: new RegExp(veteran.email) }).getByRole('cell').first().innerText()).toBe('role = prod-admin');

    // The CSV links carry the same filters.
    const csv = page.getByRole('link', { name: 'Download approvers as CSV' });
    const href = new URL((await csv.getAttribute('href'))!, server().url);
    expect(href.pathname).toBe('/api/v1/insights/approvers.csv');
    expect(href.searchParams.get('template_id')).toBe(templateId);
    const download = await page.request.get(href.href);
    expect(download.status()).toBe(200);
    expect((await download.text()).split('\r\n')[1]).toBe(`${s.approver.id},${s.approver.email},approver,2,1,1,155,1,1`);

    // Visible focus on the controls.
    await byLabel(page, 'Template').focus();
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');

    // Reloading the URL shows the same view (the filters live in it).
    await page.reload();
    await page.getByRole('table', { name: 'Decisions per approver' }).waitFor();
    expect(await byLabel(page, 'Template').inputValue()).toBe(templateId);
    if (shots) await screenshot(page, 'insights', { fullPage: true, dark: true });

    // Phone layout: no sideways scrolling of the page, the tables scroll inside their frame.
    const phone = await newPerson(browser, server(), PHONE);
    await signIn(phone.page, s.admin.email, PASSWORD, `/admin/insights${url.search}`);
    await phone.page.getByRole('table', { name: 'Decisions per approver' }).waitFor();
    // (The admin's top navigation scrolls sideways on a phone by itself; the page's own content must fit.)
    const overflowing = await phone.page.evaluate(() =>
      [...document.querySelectorAll('.admin-page *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap')).map((e) => e.tagName),
    );
    expect(overflowing).toEqual([]);
    await phone.page.getByRole('img', { name: /Time to decision per template/ }).waitFor();
    await phone.context.close();

    // A non-admin does not get the page.
    const requesterView = await newPerson(browser, server());
    await signIn(requesterView.page, s.requester.email, PASSWORD, '/admin/insights');
    await requesterView.page.getByText('This part of Interim is for administrators').waitFor();
    await requesterView.context.close();
    await context.close();
  });
});
