import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { createPerson } from './helpers/access-fixtures.ts';
import { enrolPasskey, enrolTotp } from './helpers/factors.ts';

await ensurePortalBuilt();

const MINUTE = 60_000;

/**
 * Issue 15 in Chromium with a virtual authenticator: an approver with a passkey approves on a
 * step-up template through the step-up dialog, a stale check is refused and checked again,
 * and a one-time decision link (Slack, CLI) decides on its page after the passkey check.
 */
describeEachDialect(
  'portal step-up for decisions in Chromium',
  (server, dialect) => {
    const shots = dialect === dialectsUnderTest()[0];
    let browser: Browser;
    let s: AccessSetup;
    let templateId: string;
    beforeAll(async () => {
      browser = await launchBrowser();
      s = await setUpAccess(server());
      templateId = await s.template({ step_up_minutes: 5, name: 'Production database' });
    });
    afterAll(async () => {
      await browser?.close();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    const pending = async () => {
      const requester = await createPerson(server(), 'requester');
      const res = await requester.client.post('/api/v1/access-requests', validRequest(templateId));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const dialogOf = (page: Page) => page.getByRole('dialog', { name: 'Confirm with your second factor' });

    it('approves through the step-up dialog with a passkey; Esc leaves it undecided; a stale check is refused', { timeout: 120_000 }, async () => {
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      expect(server().url).toMatch(/^http:\/\/localhost:\d+$/);
      const { context, page } = await newPerson(browser, server());
      try {
        await signIn(page, s.approver.email, PASSWORD, '/inbox');
        await enrolPasskey(server(), page, s.approver);

        const first = await pending();
        await page.goto(`/requests/${first}`);
        await page.getByRole('button', { name: 'Approve' }).click();
        const dialog = dialogOf(page);
        await expect.poll(() => dialog.isVisible()).toBe(true);
        await dialog.getByRole('button', { name: 'Use a passkey' }).waitFor();
        await expect.poll(() => dialog.getByText('This approval needs a fresh check').isVisible()).toBe(true);
        if (shots) await screenshot(page, 'step-up-dialog', { dark: true });

        // Esc closes it and nothing is decided.
        await page.keyboard.press('Escape');
        await expect.poll(() => dialog.isVisible()).toBe(false);
        await page.getByText('Not done: this needs a check with your second factor').waitFor();
        expect((await server().admin.get(`/api/v1/access-requests/${first}`)).body.status).toBe('pending');

        await page.getByRole('button', { name: 'Approve' }).click();
        await dialog.getByRole('button', { name: 'Use a passkey' }).click();
        await expect.poll(() => dialog.isVisible()).toBe(false);
        await page.getByText(/Approved by/).waitFor();
        const approved = await server().admin.get(`/api/v1/access-requests/${first}`);
        expect(approved.body.status).toBe('approved');
        const audit = await server().app.core.db.selectFrom('audit_events').select('data').where('request_id', '=', first).where('action', '=', 'access_request.approved').execute();
        expect(JSON.parse(audit[0]!.data)).toMatchObject({ step_up: { method: 'webauthn' } });

        // Stale: the server's clock passes the template's 5 minutes between the check and the decision.
        const second = await pending();
        let moved = false;
        await page.route('**/api/v1/access-requests/*/approve', async (route) => {
          if (!moved && (route.request().postDataJSON() as { step_up?: string } | null)?.step_up) {
            moved = true;
            vi.setSystemTime(Date.now() + 6 * MINUTE);
          }
          await route.continue();
        });
        await page.goto(`/requests/${second}`);
        await page.getByRole('button', { name: 'Approve' }).click();
        await dialog.getByRole('button', { name: 'Use a passkey' }).click();
        await dialog.getByText(/older than 5 min/).waitFor();
        expect((await server().admin.get(`/api/v1/access-requests/${second}`)).body.status).toBe('pending');
        // A fresh check, in time: approved.
        await dialog.getByRole('button', { name: 'Use a passkey' }).click();
        await expect.poll(() => dialog.isVisible()).toBe(false);
        await page.getByText(/Approved by/).waitFor();
        expect((await server().admin.get(`/api/v1/access-requests/${second}`)).body.status).toBe('approved');
      } finally {
        await context.close();
      }
    });

    it('an approver without a second factor is sent to their account page', { timeout: 60_000 }, async () => {
      const { context, page } = await newPerson(browser, server());
      try {
        const id = await pending();
        await signIn(page, s.secondApprover.email, PASSWORD, `/requests/${id}`);
        await page.getByRole('button', { name: 'Approve' }).click();
        const dialog = dialogOf(page);
        await dialog.getByText('you have none yet').waitFor();
        await dialog.getByRole('link', { name: 'your account page' }).click();
        await expect.poll(() => new URL(page.url()).pathname).toBe('/account');
        await expect.poll(() => dialog.isVisible()).toBe(false);
        expect((await server().admin.get(`/api/v1/access-requests/${id}`)).body.status).toBe('pending');
      } finally {
        await context.close();
      }
    });

    it('the template editor turns step-up on, within N minutes', { timeout: 60_000 }, async () => {
      const { context, page } = await newPerson(browser, server());
      try {
        const plain = await s.template();
        await signIn(page, s.admin.email, PASSWORD, `/admin/templates/${plain}`);
        await page.getByRole('checkbox', { name: 'Ask approvers to confirm with their second factor' }).check();
        await byLabel(page, 'Within (minutes)').fill('10');
        await page.getByRole('button', { name: 'Save template' }).click();
        await expect.poll(async () => (await server().admin.get(`/api/v1/access-request-templates/${plain}`)).body.step_up_minutes).toBe(10);
        await page.reload();
        expect(await byLabel(page, 'Within (minutes)').inputValue()).toBe('10');
      } finally {
        await context.close();
      }
    });

    it('a decision link opens the decision page, decides only on the button, for its own person only', { timeout: 120_000 }, async () => {
      const { context, page } = await newPerson(browser, server());
      const other = await newPerson(browser, server());
      try {
        // The approver's passkey from the first test lives in another browser: their authenticator app signs in here.
        const app = await enrolTotp(server(), s.approver.id);
        await signIn(page, s.approver.email, PASSWORD, '/', () => app.code());
        await enrolPasskey(server(), page, s.approver, 'Second laptop');
        const id = await pending();
        const made = await s.approver.client.post('/api/v1/decision-links', { request_id: id, decision: 'approve', comment: 'Checked the incident ticket' });
        expect(made.status, JSON.stringify(made.body)).toBe(201);
        const path = new URL(made.body.url).pathname;

        // Someone else signed in: refused.
        await signIn(other.page, s.secondApprover.email, PASSWORD, path);
        await other.page.getByRole('heading', { name: 'This link is for someone else', level: 1 }).waitFor();

        await page.goto(path);
        await page.getByRole('heading', { name: 'Approve this request?' }).waitFor();
        await page.getByText('Checked the incident ticket').waitFor();
        expect((await server().admin.get(`/api/v1/access-requests/${id}`)).body.status).toBe('pending');
        if (shots) await screenshot(page, 'decision-link-page', { dark: true });
        await page.getByRole('button', { name: 'Approve with a passkey' }).click();
        await page.getByRole('heading', { name: 'Request approved' }).waitFor();
        expect((await server().admin.get(`/api/v1/access-requests/${id}`)).body.status).toBe('approved');

        // Used: a clear page.
        await page.goto(path);
        await page.getByRole('heading', { name: 'This link was already used', level: 1 }).waitFor();
      } finally {
        await context.close();
        await other.context.close();
      }
    });
  },
  { INTERIM_BASE_URL: 'http://localhost:{port}' },
);
