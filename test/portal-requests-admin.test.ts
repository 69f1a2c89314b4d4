import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

const CANCELLED = 24; // with the three below: more than one page of 25

/**
 * Issue 14 §1 in Chromium: the admin Requests page (filters in the URL, search, sorts, pages,
 * CSV, links), the admin's inbox note about requests waiting elsewhere, and the catalogue
 * card and request form that say what the user already has.
 */
describeEachDialect(
  'portal in Chromium: finding requests',
  (server, dialect) => {
    const shots = dialect === dialectsUnderTest()[0];
    const shot = (page: Page, name: string) => (shots ? screenshot(page, name, { dark: true }) : undefined);
    let browser: Browser;
    let s: AccessSetup;
    let ledger: string;
    let active: string;
    const ids: Record<string, string> = {};
    let templateName: string;

    const submit = async (who: Person, templateId: string, overrides: Record<string, unknown> = {}) => {
      const res = await who.client.post('/api/v1/access-requests', validRequest(templateId, overrides));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const decide = async (by: Person, id: string, how: 'approve' | 'deny') => expect((await by.client.post(`/api/v1/access-requests/${id}/${how}`, {})).status).toBe(200);
    const rows = (page: Page) => page.getByRole('table', { name: 'Requests' }).locator('tbody tr');

    beforeAll(async () => {
      browser = await launchBrowser();
      s = await setUpAccess(server());
      templateName = (await server().admin.get(`/api/v1/access-request-templates/${s.templateId}`)).body.name;
      ledger = await s.template({ name: 'Ledger 100% export' });
      active = await s.template({ name: 'Read-only console' });
      // A page and a bit of withdrawn requests, then the three the test looks for.
      for (let i = 0; i < CANCELLED; i++) {
        const id = await submit(s.secondApprover, ledger, { justification: `Routine check ${i}` });
        expect((await s.secondApprover.client.post(`/api/v1/access-requests/${id}/cancel`, {})).status).toBe(200);
      }
      ids.pending = await submit(s.requester, s.templateId, { justification: 'Replica lag on eu-west' });
      ids.approved = await submit(s.outsider, s.templateId, { justification: 'Quarterly audit, "as agreed"' });
      await decide(s.approver, ids.approved, 'approve');
      ids.denied = await submit(s.requester, ledger, { justification: '=SUM(A1) please' });
      await decide(s.secondApprover, ids.denied, 'deny');
      ids.active = await submit(s.requester, active);
      await decide(s.approver, ids.active, 'approve');
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('filters, searches, sorts, pages, exports the CSV and follows a link, with the view kept in the address', async () => {
      const { context, page } = await newPerson(browser, server());
      await signIn(page, s.admin.email, PASSWORD, '/admin/requests');
      const menu = page.getByRole('navigation', { name: 'Administration' }).getByRole('link');
      expect(await menu.first().textContent()).toBe('Requests');
      await page.getByRole('heading', { name: 'Requests', level: 1 }).waitFor();

      // Pages: 25, then the rest.
      await expect.poll(() => rows(page).count()).toBe(25);
      await page.getByRole('button', { name: 'Load more' }).click();
      await expect.poll(() => rows(page).count()).toBe(CANCELLED + 4);

      // Several statuses at once; the address keeps them and a reload shows the same view.
      await page.getByRole('checkbox', { name: 'Pending' }).check();
      await page.getByRole('checkbox', { name: 'Denied' }).check();
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/status=pending%2Cdenied|status=pending,denied/);
      await expect.poll(() => rows(page).count()).toBe(2);
      await page.reload();
      await expect.poll(() => rows(page).count()).toBe(2);
      expect(await page.getByRole('checkbox', { name: 'Denied' }).isChecked()).toBe(true);
      await expect.poll(() => rows(page).allTextContents()).toEqual([expect.stringContaining('Ledger 100% export'), expect.stringContaining(templateName)]);

      // Requester, template and approver are picked by name.
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.waitForURL((url) => url.search === '');
      await byLabel(page, 'Requester').selectOption({ label: `requester (${s.requester.email})` });
      await byLabel(page, 'Template').selectOption({ label: 'Ledger 100% export' });
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows(page).count()).toBe(1);
      expect(await rows(page).first().textContent()).toContain('Denied');
      await page.getByRole('button', { name: 'Clear' }).click();
      await byLabel(page, 'Approver').selectOption({ label: `approver (${s.approver.email})` });
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows(page).count()).toBe(2);

      // Submitted in a range that holds nothing yet.
      await page.getByRole('button', { name: 'Clear' }).click();
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
      await byLabel(page, 'Submitted from').fill(tomorrow);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByText('No requests match these filters').waitFor();
      expect(new URL(page.url()).searchParams.get('submitted_from')).toBe(new Date(`${tomorrow}:00Z`).toISOString());

      // Text search: part of the justification, any case; % is text.
      await page.getByRole('button', { name: 'Clear' }).click();
      await byLabel(page, 'Search').fill('QUARTERLY');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows(page).count()).toBe(1);
      await byLabel(page, 'Search').fill('100%');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows(page).count()).toBe(CANCELLED + 1);

      // Sorting: the header says its state; requests without an end come last both ways.
      await page.getByRole('button', { name: 'Clear' }).click();
      const ends = page.getByRole('columnheader', { name: 'Ends' });
      expect(await page.getByRole('columnheader', { name: 'Submitted' }).getAttribute('aria-sort')).toBe('descending');
      expect(await ends.getAttribute('aria-sort')).toBe('none');
      await ends.getByRole('button').click();
      await expect.poll(() => ends.getAttribute('aria-sort')).toBe('descending');
      expect(await page.getByRole('columnheader', { name: 'Submitted' }).getAttribute('aria-sort')).toBe('none');
      await expect.poll(() => rows(page).first().textContent()).toContain('Read-only console');
      await ends.getByRole('button').click();
      await expect.poll(() => ends.getAttribute('aria-sort')).toBe('ascending');
      expect(new URL(page.url()).search).toBe('?sort=ends&order=asc');
      await expect.poll(async () => (await rows(page).first().textContent()) ?? '').toContain(templateName);
      await page.getByRole('button', { name: 'Load more' }).click();
      await expect.poll(() => rows(page).count()).toBe(CANCELLED + 4);

      // The CSV holds the same filtered set, with names and emails, formulas defused.
      await page.getByRole('checkbox', { name: 'Denied' }).check();
      await page.getByRole('checkbox', { name: 'Approved' }).check();
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows(page).count()).toBe(3);
      await shot(page, 'admin-requests');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
      const csv = readFileSync((await download.path())!, 'utf8').split('\r\n');
      expect(csv[0]).toMatch(/^id,status,kind,template_id,template_name,application_name,requester_id,requester_name,requester_email,/);
      expect(csv.slice(1, -1)).toHaveLength(3);
      // Sorted like the page: ends ascending, the one without an end last.
      expect(csv[3]).toContain(`${ids.denied},denied,`);
      expect(csv[3]).toContain(`,requester,${s.requester.email},`);
      expect(csv[3]).toContain(`"'=SUM(A1) please"`);
      expect(csv.join('\n')).toContain(`"Quarterly audit, ""as agreed"""`);

      // A row links to the request.
      await rows(page).filter({ hasText: s.outsider.email }).getByRole('link', { name: templateName }).click();
      await page.waitForURL(`**/requests/${ids.approved}`);
      await page.getByText('Quarterly audit').first().waitFor();
      await context.close();
    });

    it('tells an admin with an empty inbox how many requests wait elsewhere, and links to them', async () => {
      const { context, page } = await newPerson(browser, server());
      await signIn(page, s.admin.email, PASSWORD, '/inbox');
      const note = page.getByTestId('pending-elsewhere');
      await note.waitFor();
      expect(await note.textContent()).toContain('1 pending request waits for other approvers.');
      await note.getByRole('link', { name: 'See all pending requests' }).click();
      await page.waitForURL('**/admin/requests?status=pending');
      await expect.poll(() => rows(page).count()).toBe(1);
      expect(await page.getByRole('checkbox', { name: 'Pending' }).isChecked()).toBe(true);
      // Nobody else is told: a non-admin approver has the request in the inbox, and no note.
      const approver = await newPerson(browser, server());
      await signIn(approver.page, s.approver.email, PASSWORD, '/inbox');
      await approver.page.getByRole('link', { name: templateName }).first().waitFor();
      expect(await approver.page.getByTestId('pending-elsewhere').count()).toBe(0);
      await approver.context.close();
      await context.close();
    });

    it('shows on the catalogue and the form what the user already has, with a link, instead of a form that ends in a 409', async () => {
      const { context, page } = await newPerson(browser, server());
      await signIn(page, s.requester.email, PASSWORD, '/');
      const card = (name: string) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name }) });
      await card(templateName).getByText('Request pending').waitFor();
      expect(await card('Read-only console').getByTestId('my-access').textContent()).toMatch(/^Active, (1 hour|59 minutes) left — View/);
      // The denied request is over: a new one may be asked for.
      expect(await card('Ledger 100% export').getByRole('link', { name: /^Request access\b.*Ledger 100% export$/ }).count()).toBe(1);
      expect(await card(templateName).getByRole('link', { name: /^Request access/ }).count()).toBe(0);
      await shot(page, 'catalogue-state');
      await card(templateName).getByRole('link', { name: `View your request for ${templateName}` }).click();
      await page.waitForURL(`**/requests/${ids.pending}`);

      // The form says the same at the top.
      await page.goto(`/request/${active}`);
      const notice = page.getByTestId('my-access');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/^Active, .* left — View/);
      await notice.getByRole('link', { name: 'View your request for Read-only console' }).click();
      await page.waitForURL(`**/requests/${ids.active}`);
      await context.close();
    });

    it('searches the active grants by part of a name, template or reason', async () => {
      const { context, page } = await newPerson(browser, server());
      await signIn(page, s.admin.email, PASSWORD, '/admin/grants');
      const grants = page.getByRole('table', { name: 'Active grants' }).locator('tbody tr');
      await expect.poll(() => grants.count()).toBe(2);
      await byLabel(page, 'Search grants').fill('QUARTERLY');
      await expect.poll(() => grants.count()).toBe(1);
      expect(await grants.first().textContent()).toContain(s.outsider.email);
      await byLabel(page, 'Search grants').fill('read-only');
      await expect.poll(() => grants.allTextContents()).toEqual([expect.stringContaining(s.requester.email)]);
      await byLabel(page, 'Search grants').fill('');
      await expect.poll(() => grants.count()).toBe(2);
      await context.close();
    });

    it('works on a phone and by keyboard: every filter is reached with Tab, with visible focus, and sorting answers Enter', async () => {
      const admin = await createPerson(server(), 'phone-admin', { isAdmin: true });
      const { context, page } = await newPerson(browser, server(), PHONE);
      await signIn(page, admin.email, PASSWORD, '/admin/requests');
      await expect.poll(() => rows(page).count()).toBe(25);
      // Nothing but the table's own scroller is wider than the phone.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1)).toBe(true);

      await byLabel(page, 'Search').focus();
      const reached: string[] = [];
      for (let i = 0; i < 80; i++) {
        const focused = await page.evaluate(() => {
          const el = document.activeElement as HTMLInputElement | null;
          if (!el) return null;
          const label = el.labels?.[0]?.textContent?.trim() ?? el.textContent?.trim() ?? '';
          const style = getComputedStyle(el);
          return { label, outlined: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
        });
        if (focused) {
          // A date-time field takes several Tabs (one per part): count it once.
          if (reached.at(-1) !== focused.label) reached.push(focused.label);
          expect(focused.outlined, focused.label).toBe(true);
        }
        if (focused?.label === 'Apply filters') break;
        await page.keyboard.press('Tab');
      }
      expect(reached).toEqual(['Search', 'Requester', 'Template', 'Approver', 'Submitted from', 'Submitted until', 'Pending', 'Provisioning', 'Approved', 'Denied', 'Cancelled', 'Expired', 'Revoked', 'Lapsed', 'Extended', 'Apply filters']);

      await page.getByRole('columnheader', { name: 'Last change' }).getByRole('button').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.getByRole('columnheader', { name: 'Last change' }).getAttribute('aria-sort')).toBe('descending');
      expect(new URL(page.url()).searchParams.get('sort')).toBe('updated');
      await context.close();
    });
  },
  { INTERIM_REQUESTS_PER_MINUTE: '1000' },
);
