import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createGroup, PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import type { TestServer } from './helpers/server.ts';

await ensurePortalBuilt();

const MIN = 60_000;

/** Friendlier names than the fixtures' unique ones, for what people (and screenshots) read. */
async function humanize(server: TestServer, s: AccessSetup) {
  const rename = async (path: string, body: Record<string, unknown>) => expect((await server.admin.patch(path, body)).status).toBe(200);
  await rename(`/api/v1/users/${s.requester.id}`, { name: 'Ada Lovelace' });
  await rename(`/api/v1/users/${s.approver.id}`, { name: 'Grace Hopper' });
  await rename(`/api/v1/users/${s.secondApprover.id}`, { name: 'Alan Turing' });
  await rename(`/api/v1/users/${s.escalationMember.id}`, { name: 'Katherine Johnson' });
  await rename(`/api/v1/users/${s.admin.id}`, { name: 'Margaret Hamilton' });
  await rename(`/api/v1/groups/${s.approverGroupId}`, { name: 'On-call leads' });
  await rename(`/api/v1/groups/${s.escalationGroupId}`, { name: 'Engineering managers' });
  await rename(`/api/v1/applications/${s.appId}`, { name: 'Postgres (production)' });
  await rename(`/api/v1/access-request-templates/${s.templateId}`, { name: 'Production database' });
}

/** Whether the page scrolls sideways (the phone layout must not). */
const overflowsSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);

/** Tabs until `locator` has the focus; fails after `max` presses. */
async function tabTo(page: Page, locator: ReturnType<Page['locator']>, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await locator.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error('not reachable by keyboard');
}

/**
 * Issue 14 §3 in Chromium: the time-zone setting changes how every time shows; an ended
 * request tells its whole story beside its discussion; an approver sees what the requester
 * already has. Keyboard and phone layout included.
 */
describeEachDialect('portal: time and people in Chromium', (server, dialect) => {
  const shots = dialect === dialectsUnderTest()[0];
  const shot = (page: Page, name: string, opts?: { fullPage?: boolean }) => (shots ? screenshot(page, name, { dark: true, ...opts }) : undefined);
  let browser: Browser;
  let s: AccessSetup;
  let endedId: string;
  let pendingId: string;
  let elsewhereTemplateId: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    vi.useFakeTimers({ toFake: ['Date'] });
    s = await setUpAccess(server());
    await humanize(server(), s);
    // A grant's whole life: asked, escalated, approved, extended, discussed, revoked.
    const extendable = await s.template({ name: 'Production database (extendable)', allowed_durations: [60, 120], allow_extension: true, max_total_mins: 180 });
    const asked = await s.requester.client.post('/api/v1/access-requests', { ...validRequest(extendable), justification: 'INC-4821: replica lag in eu-west' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    endedId = asked.body.id;
    vi.setSystemTime(Date.now() + 16 * MIN);
    await server().app.runWorkerOnce();
    expect((await s.escalationMember.client.post(`/api/v1/access-requests/${endedId}/approve`, { comment: 'Go ahead, the lead is in a meeting' })).status).toBe(200);
    vi.setSystemTime(Date.now() + 50 * MIN);
    const extension = await s.requester.client.post(`/api/v1/access-requests/${endedId}/extensions`, { duration_mins: 60, justification: 'Still rebuilding the replica' });
    expect(extension.status, JSON.stringify(extension.body)).toBe(201);
    expect((await s.approver.client.post(`/api/v1/access-requests/${extension.body.id}/approve`, { comment: 'One more hour' })).status).toBe(200);
    vi.setSystemTime(Date.now() + 20 * MIN);
    expect((await s.requester.client.post(`/api/v1/access-requests/${endedId}/comments`, { body: 'Replica is back, finishing up.' })).status).toBe(201);
    vi.setSystemTime(Date.now() + 5 * MIN);
    expect((await s.admin.client.post(`/api/v1/access-requests/${endedId}/revoke`, { reason: 'Incident closed' })).status).toBe(200);

    // What the requester holds when they ask again: an active grant of another template of the
    // same application, a permanent group that gives one of its claims, and a grant elsewhere.
    const readOnly = await s.template({ name: 'Production database (read only)' });
    const active = await s.requester.client.post('/api/v1/access-requests', validRequest(readOnly));
    expect((await s.approver.client.post(`/api/v1/access-requests/${active.body.id}/approve`, {})).status).toBe(200);
    const dba = await createGroup(server(), 'dba', [s.requester.id]);
    expect((await server().admin.patch(`/api/v1/groups/${dba}`, { name: 'Database administrators' })).status).toBe(200);
    expect((await server().admin.post('/api/v1/mappings', { app_id: s.appId, claim: 'team', value: 'dba', group_ids: [dba] })).status).toBe(201);
    const app = await server().admin.post('/api/v1/applications', { name: 'Grafana', redirect_uris: ['http://127.0.0.1:9/cb'], first_party: true });
    const viewers = await createGroup(server(), 'viewers');
    const mapping = await server().admin.post('/api/v1/mappings', { app_id: app.body.id, claim: 'role', value: 'viewer', group_ids: [viewers] });
    const elsewhere = await server().admin.post('/api/v1/access-request-templates', { name: 'Grafana viewer', app_id: app.body.id, mapping_ids: [mapping.body.id], allowed_durations: [240], approver_group_ids: [s.approverGroupId] });
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(201);
    elsewhereTemplateId = elsewhere.body.id;
    const there = await s.requester.client.post('/api/v1/access-requests', { template_id: elsewhereTemplateId, duration_mins: 240, justification: 'Dashboards for the release' });
    expect((await s.approver.client.post(`/api/v1/access-requests/${there.body.id}/approve`, {})).status).toBe(200);
    vi.setSystemTime(Date.now() + 10 * MIN);
    const pending = await s.requester.client.post('/api/v1/access-requests', { ...validRequest(s.templateId), justification: 'Schema migration for the payments release' });
    expect(pending.status, JSON.stringify(pending.body)).toBe(201);
    pendingId = pending.body.id;
    vi.setSystemTime(Date.now() + 3 * MIN);
  });
  afterAll(async () => {
    vi.useRealTimers();
    await browser?.close();
  });

  it('the time-zone setting changes how times show: the hover title carries the zone', { timeout: 90_000 }, async () => {
    const { page, context } = await newPerson(browser, server());
    await signIn(page, s.requester.email, PASSWORD, `/requests/${endedId}`);
    const firstTime = page.getByRole('list', { name: 'Timeline' }).locator('time').first();
    // The browser is in UTC (the test profile), and no zone is set: the browser's.
    expect(await firstTime.getAttribute('title')).toMatch(/UTC$/);

    await page.goto('/account');
    const select = page.getByRole('combobox', { name: 'Time zone' });
    expect(await select.locator('option').first().textContent()).toBe('Browser default (UTC)');
    expect(await select.locator('option[value="Asia/Tokyo"]').count()).toBe(1);
    // By keyboard: focus the select, choose, Tab to the button and press Enter.
    await tabTo(page, select);
    expect(await select.evaluate((el) => getComputedStyle(el).outlineStyle !== 'none' || getComputedStyle(el).boxShadow !== 'none')).toBe(true);
    await select.selectOption('Asia/Tokyo');
    const save = page.getByRole('button', { name: 'Save time zone' });
    await tabTo(page, save);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Times now show in Asia/Tokyo' }).waitFor();
    expect((await s.requester.client.get('/api/v1/session')).body.user.time_zone).toBe('Asia/Tokyo');

    await page.goto(`/requests/${endedId}`);
    await expect.poll(() => page.getByRole('list', { name: 'Timeline' }).locator('time').first().getAttribute('title')).toMatch(/GMT\+9$/);
    // Relative words in the text (or, where the exact minute is the point, the absolute time), and the absolute time in the title, for every time on the page.
    const titles = await page.locator('main time').evaluateAll((els) => els.map((el) => [el.textContent ?? '', el.getAttribute('title') ?? ''] as const));
    expect(titles.length).toBeGreaterThan(5);
    for (const [text, title] of titles) {
      expect(title).toMatch(/GMT\+9$/);
      expect(text === title || /ago$|^in |^just now$/.test(text), text).toBe(true);
    }
    expect(titles.filter(([text, title]) => text === title)).toHaveLength(1);
    // The setting follows the user to another browser.
    const other = await newPerson(browser, server());
    await signIn(other.page, s.requester.email, PASSWORD, `/requests/${endedId}`);
    expect(await other.page.getByRole('list', { name: 'Timeline' }).locator('time').first().getAttribute('title')).toMatch(/GMT\+9$/);
    await other.context.close();

    // Back to the browser's zone.
    await page.goto('/account');
    await page.getByRole('combobox', { name: 'Time zone' }).selectOption('');
    await page.getByRole('button', { name: 'Save time zone' }).click();
    await page.getByRole('status').filter({ hasText: 'your browser’s zone (UTC)' }).waitFor();
    expect((await s.requester.client.get('/api/v1/session')).body.user.time_zone).toBeNull();
    await context.close();
  });

  it('an ended request shows who decided, its whole timeline and its discussion', { timeout: 90_000 }, async () => {
    const { page, context } = await newPerson(browser, server());
    await signIn(page, s.requester.email, PASSWORD, `/requests/${endedId}`);
    await page.getByText('Revoked by Margaret Hamilton').waitFor();
    // Who approved the ended grant, and when, before how it ended.
    expect(await page.getByRole('region', { name: 'Request' }).getByText('Approved by Katherine Johnson').count()).toBe(1);
    const steps = await page.getByRole('list', { name: 'Timeline' }).getByRole('listitem').allTextContents();
    const expected = [
      /^Ada Lovelace submitted the request, for 1 hour/,
      /^Notified (Grace Hopper|Alan Turing) \(in the app and by e-mail\), (Grace Hopper|Alan Turing) \(in the app and by e-mail\)/,
      /^Escalated: no decision in time/,
      /^Notified Katherine Johnson/,
      /^Katherine Johnson approved it.*Go ahead, the lead is in a meeting/,
      /^Notified Ada Lovelace/,
      /^Access started/,
      /^Ada Lovelace asked for 1 hour more.*Still rebuilding the replica/,
      /^Notified/,
      /^Grace Hopper extended it by 1 hour, to \d+ \w+ 2026, \d\d:\d\d UTC.*One more hour/,
      /^Notified Ada Lovelace/,
      /^Margaret Hamilton revoked the access.*Reason: Incident closed/,
      /^Notified Ada Lovelace/,
    ];
    expect(steps).toHaveLength(expected.length);
    steps.forEach((text, i) => expect(text).toMatch(expected[i]!));
    // The discussion stays on the ended request (closed for new comments).
    await page.getByText('Replica is back, finishing up.').waitFor();
    // The requester sees no "Already has" panel on their own request.
    expect(await page.getByRole('heading', { name: 'Already has' }).count()).toBe(0);
    await shot(page, 'request-timeline', { fullPage: true });

    // The phone layout: no sideways scrolling, the timeline readable.
    const phone = await newPerson(browser, server(), PHONE);
    await signIn(phone.page, s.requester.email, PASSWORD, `/requests/${endedId}`);
    await phone.page.getByRole('heading', { name: 'Timeline' }).scrollIntoViewIfNeeded();
    expect(await overflowsSideways(phone.page)).toBe(false);
    await phone.context.close();
    await context.close();
  });

  it('the approver sees what the requester already has; an outsider gets nothing', { timeout: 90_000 }, async () => {
    const { page, context } = await newPerson(browser, server());
    await signIn(page, s.approver.email, PASSWORD, `/requests/${pendingId}`);
    const panel = page.getByRole('region', { name: 'Already has' });
    await panel.getByRole('link', { name: 'Production database (read only)' }).waitFor();
    expect(await panel.getByRole('list', { name: /grants for Postgres \(production\)/ }).locator('time').first().getAttribute('title')).toMatch(/UTC$/);
    await panel.getByText('Database administrators').waitFor();
    await panel.getByText('team = dba').waitFor();
    await panel.getByText('1 active grant for other applications.').waitFor();
    // An approver who is not an admin gets no link to the admin's user page.
    expect(await panel.getByRole('link', { name: /^See / }).count()).toBe(0);
    // By keyboard: the grant's link is reachable and opens that grant.
    const link = panel.getByRole('link', { name: 'Production database (read only)' });
    await tabTo(page, link, 120);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Production database (read only)', level: 1 }).waitFor();
    await page.goBack();
    await panel.getByText('Database administrators').waitFor();
    await shot(page, 'approver-context', { fullPage: true });

    const phone = await newPerson(browser, server(), PHONE);
    await signIn(phone.page, s.approver.email, PASSWORD, `/requests/${pendingId}`);
    await phone.page.getByRole('region', { name: 'Already has' }).getByText('Database administrators').waitFor();
    expect(await overflowsSideways(phone.page)).toBe(false);
    await phone.context.close();

    // An admin gets the link to the requester's page.
    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, `/requests/${pendingId}`);
    await admin.page.getByRole('region', { name: 'Already has' }).getByRole('link', { name: 'See Ada Lovelace' }).waitFor();
    await admin.context.close();

    // Someone who may not see the request sees neither it nor the panel.
    const outsider = await newPerson(browser, server());
    await signIn(outsider.page, s.outsider.email, PASSWORD, `/requests/${pendingId}`);
    await outsider.page.getByText(/not found/i).first().waitFor();
    expect(await outsider.page.getByRole('region', { name: 'Already has' }).count()).toBe(0);
    await outsider.context.close();
    await context.close();
  });
  it('the start-time field reads the wall-clock time in the user’s zone, and previews the start', { timeout: 90_000 }, async () => {
    const templateId = await s.template({ name: 'Maintenance window', custom_fields: [], max_start_delay_mins: 1440 });
    expect((await s.requester.client.patch('/api/v1/me', { time_zone: 'Asia/Tokyo' })).status).toBe(200);
    const { page, context } = await newPerson(browser, server());
    try {
      await signIn(page, s.requester.email, PASSWORD, `/request/${templateId}`);
      await page.getByRole('radio', { name: 'At a later time' }).check();
      await page.getByText('Start at (Asia/Tokyo time)').waitFor();
      // Two hours from the server's now, typed as Tokyo's wall clock (UTC+9, no daylight saving).
      const startsAt = Math.ceil((Date.now() + 2 * 60 * MIN) / MIN) * MIN;
      await page.getByLabel('Start at').fill(new Date(startsAt + 9 * 60 * MIN).toISOString().slice(0, 16));
      const preview = page.getByTestId('start-preview');
      expect(await preview.textContent()).toMatch(/^Starts in (1 h 5\d min|2 h( [1-3] min)?)$/);
      expect(await preview.locator('time').getAttribute('title')).toMatch(/GMT\+9$/);
      await page.getByLabel('Justification').fill('Maintenance on the replica');
      await page.getByRole('button', { name: 'Submit request' }).click();
      await page.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
      const id = page.url().split('/').pop()!;
      expect((await s.requester.client.get(`/api/v1/access-requests/${id}`)).body.starts_at).toBe(new Date(startsAt).toISOString());
    } finally {
      await s.requester.client.patch('/api/v1/me', { time_zone: null });
      await context.close();
    }
  });
});
