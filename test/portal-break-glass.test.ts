import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createGroup, createPerson, PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

const requestIdFrom = (url: string) => /\/requests\/([0-9a-f-]{36})$/.exec(new URL(url).pathname)?.[1];

/** Issue 12 §4 and §5 in real Chromium: the editor's fields, break-glass with its warning, the review queue and review, a lapsed request. */
describeEachDialect('portal in Chromium: lapse and break-glass', (server) => {
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

  it('admin offers break-glass in the editor → responder breaks the glass → approver reviews from the queue and revokes', { timeout: 120_000 }, async () => {
    const s = await setUpAccess(server());
    const responder = await createPerson(server(), 'responder');
    const responders = await createGroup(server(), 'responders', [responder.id]);
    const groupName = (await server().admin.get(`/api/v1/groups/${responders}`)).body.name as string;
    const templateId = await s.template({ custom_fields: [] });

    // The admin turns break-glass on in the template editor: refused without requester groups, saved with them.
    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, `/admin/templates/${templateId}`);
    await admin.page.getByLabel('Offer break-glass').check();
    await byLabel(admin.page, 'Break-glass lasts at most (minutes)').fill('45');
    await byLabel(admin.page, 'Review within (minutes)').fill('90');
    await admin.page.getByLabel('Let a request nobody decides lapse').check();
    await byLabel(admin.page, 'Lapse after (minutes)').fill('600');
    await admin.page.getByRole('button', { name: 'Save template' }).click();
    await admin.page.getByText(/needs at least one requester group/).first().waitFor();
    await admin.page.getByRole('group', { name: /^Requester groups/ }).getByRole('checkbox', { name: groupName }).check();
    await admin.page.getByRole('button', { name: 'Save template' }).click();
    await admin.page.getByText(/Saved as version/).waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${templateId}`)).body).toMatchObject({
      break_glass: true,
      break_glass_max_mins: 45,
      break_glass_review_mins: 90,
      pending_ttl_mins: 600,
      requester_group_ids: [responders],
    });

    // The responder sees the warning, must justify, and gets the access at once.
    const resp = await newPerson(browser, server());
    await signIn(resp.page, responder.email, PASSWORD);
    // The catalogue card says break-glass is on offer, and when a request lapses.
    const templateName = (await server().admin.get(`/api/v1/access-request-templates/${templateId}`)).body.name as string;
    const card = resp.page.getByRole('listitem').filter({ has: resp.page.getByRole('heading', { name: templateName }) });
    await card.getByText('Break-glass', { exact: true }).waitFor();
    await card.getByText(/after 10 hours without a decision/).waitFor();
    await resp.page.goto(`/request/${templateId}`);
    const panel = resp.page.getByRole('region', { name: 'Break glass' });
    await panel.getByText(/without approval/).waitFor();
    await panel.getByText(/45 minutes/).first().waitFor();
    await panel.getByRole('button', { name: 'Break glass…' }).click();
    await panel.getByRole('button', { name: /Grant me access now/ }).click();
    await panel.getByText(/justification/i).first().waitFor();
    expect(await server().app.core.db.selectFrom('access_requests').select('id').where('requester_id', '=', responder.id).execute()).toHaveLength(0);
    await byLabel(resp.page, 'Emergency justification').fill('INC-77: payments database is down');
    await panel.getByRole('button', { name: /Grant me access now/ }).click();
    await resp.page.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    const id = requestIdFrom(resp.page.url())!;
    const section = resp.page.getByRole('region', { name: 'Break-glass access' });
    await section.getByText('Not reviewed').waitFor();
    await section.getByText(/must review it by/).waitFor();
    await resp.page.getByText('Active', { exact: true }).first().waitFor();
    // The requester cannot review their own.
    expect(await resp.page.getByRole('button', { name: 'Mark as reviewed' }).count()).toBe(0);

    // The approver was alerted, finds it in the queue and revokes it on review.
    const appr = await newPerson(browser, server());
    await signIn(appr.page, s.approver.email, PASSWORD, '/break-glass');
    await appr.page.getByRole('heading', { name: 'Break-glass reviews', level: 1 }).waitFor();
    const row = appr.page.locator(`tr[data-request-id="${id}"]`);
    await row.getByText('INC-77: payments database is down').waitFor();
    await row.getByRole('link').click();
    await appr.page.waitForURL(new RegExp(`/requests/${id}$`));
    await appr.page.getByRole('button', { name: 'Revoke the access' }).click();
    await appr.page.getByText('Say what you checked.').waitFor();
    await byLabel(appr.page, 'Review comment').fill('No incident was open at that time');
    await appr.page.getByRole('button', { name: 'Revoke the access' }).click();
    await appr.page.getByText('Revoked on review').waitFor();
    const after = await s.approver.client.get(`/api/v1/access-requests/${id}`);
    expect(after.body).toMatchObject({ status: 'revoked', break_glass: { review_state: 'revoked', review_comment: 'No incident was open at that time' } });
    await appr.page.goto('/break-glass');
    await appr.page.getByText('Nothing to review').waitFor();

    // The alert reached the approver's notifications.
    await appr.page.goto('/notifications');
    await appr.page.getByText(/BREAK-GLASS/).first().waitFor();
    await Promise.all([admin.context.close(), resp.context.close(), appr.context.close()]);
  });

  it('shows when a pending request lapses, and that it lapsed', { timeout: 60_000 }, async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const s = await setUpAccess(server());
    const templateId = await s.template({ escalation_after_mins: null, escalation_group_id: null, pending_ttl_mins: 30 });
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId));
    expect(submitted.status).toBe(201);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.requester.email, PASSWORD, `/requests/${submitted.body.id}`);
    await page.getByText(/Lapses .* if nobody decides/).waitFor();
    vi.setSystemTime(Date.now() + 31 * 60_000);
    await server().app.runWorkerOnce();
    await page.reload();
    await page.getByText('Lapsed', { exact: true }).first().waitFor();
    await page.getByText(/nobody decided in time/i).first().waitFor();
    await context.close();
  });
});
