import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, setUpAccess } from './helpers/access-fixtures.ts';
import { ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

const MIN = 60_000;
/** "2026-05-01T09:30" in UTC (the browser context's time zone), as the datetime-local input takes it. */
const localInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);

/** Scheduled start in the portal (issue 12 §3): the template editor, the request form, the request page. */
describeEachDialect('portal in Chromium: scheduled start', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('an admin allows a scheduled start; a requester asks for a later start, sees it scheduled and withdraws it', async () => {
    const s = await setUpAccess(server());
    const templateId = await s.template({ custom_fields: [] });

    // The admin turns scheduling on in the template editor.
    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, `/admin/templates/${templateId}`);
    await admin.page.getByRole('heading', { name: 'Scheduled start' }).waitFor();
    await admin.page.getByLabel('Let requesters schedule a later start').check();
    await admin.page.getByLabel('At most (minutes ahead)').fill('1440');
    await admin.page.getByRole('button', { name: 'Save template' }).click();
    await admin.page.getByText('Saved as version 2.').waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${templateId}`)).body.max_start_delay_mins).toBe(1440);
    await admin.context.close();

    // The requester picks a start beyond the limit first: the server's message shows at the field.
    const requester = await newPerson(browser, server());
    await signIn(requester.page, s.requester.email, PASSWORD, `/request/${templateId}`);
    const page = requester.page;
    await page.getByRole('group', { name: 'When should it start?' }).waitFor();
    await page.getByRole('radio', { name: 'At a later time' }).check();
    await page.getByLabel('Start at').fill(localInput(Date.now() + 3 * 1440 * MIN));
    await page.getByLabel('Justification').fill('maintenance window on Saturday');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.locator('.field-error', { hasText: 'must be at most 1440 minutes (1 day) from now' }).waitFor();

    // Then a start two hours ahead, which goes through.
    const startsAt = Math.ceil((Date.now() + 2 * 60 * MIN) / MIN) * MIN;
    await page.getByLabel('Start at').fill(localInput(startsAt));
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    const submitted = (await s.requester.client.get(`/api/v1/access-requests/${id}`)).body;
    expect(submitted).toMatchObject({ status: 'pending', starts_at: new Date(startsAt).toISOString() });

    // Approved in advance: the page says it is scheduled and when it starts, not that it is active.
    expect((await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, {})).status).toBe(200);
    await page.reload();
    await page.locator('.badge-scheduled', { hasText: 'Scheduled' }).waitFor();
    expect(await page.getByTestId('scheduled-note').textContent()).toContain('Nothing is granted before the start');
    expect(await page.getByTestId('countdown').count()).toBe(0);

    // The requester withdraws it before it starts.
    await page.getByRole('button', { name: 'Cancel request' }).click();
    await page.locator('.badge-cancelled').waitFor();
    expect((await s.requester.client.get(`/api/v1/access-requests/${id}`)).body).toMatchObject({ status: 'cancelled', end_reason: 'manual' });
    await requester.context.close();
  });

  it('shows no start choice where the template does not allow one, and says why a blocking trigger excludes it', async () => {
    const s = await setUpAccess(server());
    const requester = await newPerson(browser, server());
    await signIn(requester.page, s.requester.email, PASSWORD, `/request/${s.templateId}`);
    await requester.page.getByLabel('Justification').waitFor();
    expect(await requester.page.getByRole('group', { name: 'When should it start?' }).count()).toBe(0);
    await requester.context.close();

    const script = await server().admin.post('/api/v1/scripts', { name: `blocker-${Date.now()}`, source: "log.info('hi');" });
    expect(script.status).toBe(201);
    const blocking = await s.template({ trigger: { script_id: script.body.id, failure_mode: 'block', max_retries: 0 } });
    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, `/admin/templates/${blocking}`);
    await admin.page.getByLabel('Let requesters schedule a later start').check();
    await admin.page.getByRole('button', { name: 'Save template' }).click();
    await admin.page.locator('.field-error', { hasText: 'cannot be set with a block-mode trigger' }).waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${blocking}`)).body.max_start_delay_mins).toBeNull();
    await admin.context.close();
  });
});
