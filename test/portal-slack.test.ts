import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createPerson, PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { byLabel, describedError, ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { BOT_TOKEN, buttonPress, formOf, postInteraction, SIGNING_SECRET, signedHeaders, startFakeSlack } from './helpers/fake-slack.ts';

await ensurePortalBuilt();
const fake = await startFakeSlack();
afterAll(() => fake.close());

/**
 * Linking Slack in Chromium: a Slack user presses Approve unlinked, opens the one-time link
 * (signing in first), checks the workspace and handle, confirms, sees the link on the
 * Account page, then presses again and decides; and removes the link.
 */
describeEachDialect(
  'portal: linking a Slack account in Chromium',
  (server, dialect) => {
    const shots = dialect === dialectsUnderTest()[0];
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('an admin sets up the Slack app and a Slack app event action in the portal', { timeout: 60_000 }, async () => {
      const s = server();
      const admin = await createPerson(s, 'slack-admin', { isAdmin: true });
      const { page } = await newPerson(browser, s);
      await signIn(page, admin.email, PASSWORD, '/admin/slack');
      await page.getByRole('heading', { name: 'Slack', level: 1 }).waitFor();
      await page.getByText('Not configured').waitFor();
      await page.getByText(`${s.url}/api/v1/slack/interactions`).waitFor();
      await page.getByLabel('Bot token').fill('xoxp-not-a-bot-token');
      await page.getByLabel('Signing secret').fill(SIGNING_SECRET);
      await page.getByRole('button', { name: 'Save Slack app' }).click();
      await expect.poll(() => describedError(page, 'Bot token')).toContain('xoxb-');
      await page.getByLabel('Bot token').fill(BOT_TOKEN);
      await page.getByRole('button', { name: 'Save Slack app' }).click();
      await page.getByRole('status').getByText('Saved.').waitFor();
      await page.getByText('Configured, last changed').waitFor();
      expect(await page.getByLabel('Bot token').inputValue()).toBe('');
      if (shots) await screenshot(page, 'admin-slack', { dark: true });

      await page.goto('/admin/event-actions');
      await page.getByText('Add an event action').click();
      await byLabel(page, 'Name').fill('Approvals in #access');
      await byLabel(page, 'Kind').selectOption('slack_app');
      await byLabel(page, 'Slack channel id').fill('C0ACCESS01');
      await page.getByRole('button', { name: 'Add action' }).click();
      await page.getByText('Slack app in channel C0ACCESS01').first().waitFor();
      const actions = await s.admin.get('/api/v1/event-actions?kind=slack_app');
      expect(actions.body.items.map((a: { config: unknown }) => a.config)).toContainEqual({ channel: 'C0ACCESS01' });
    });

    it('sign in from the link, confirm, list, decide from Slack, remove', { timeout: 90_000 }, async () => {
      const s = server();
      expect((await s.admin.request('PUT', '/api/v1/settings/slack', { bot_token: BOT_TOKEN, signing_secret: SIGNING_SECRET })).status).toBe(200);
      const access = await setUpAccess(s);
      expect((await s.admin.patch(`/api/v1/users/${access.approver.id}`, { name: 'Grace Hopper' })).status).toBe(200);
      const submitted = await access.requester.client.post('/api/v1/access-requests', validRequest(access.templateId));
      expect(submitted.status).toBe(201);

      const pressApprove = async () => {
        const responseUrl = fake.responseUrl();
        const body = formOf(buttonPress({ userId: 'UGRACE0001', username: 'grace', actionId: 'interim_approve', value: `${submitted.body.id}:1`, responseUrl }));
        expect((await postInteraction(s.url, body, signedHeaders(body, Math.floor(Date.now() / 1000)))).status).toBe(200);
        const path = new URL(responseUrl).pathname;
        await vi.waitFor(() => expect(fake.responses.some((r) => r.path === path)).toBe(true), { timeout: 5000 });
        return fake.responses.find((r) => r.path === path)!.body;
      };
      const ephemeral = await pressApprove();
      const url = /<(http[^|>]+\/slack\/link\/[^|>]+)\|/.exec(String(ephemeral.text))?.[1];
      expect(url).toBeTruthy();
      const path = new URL(url!).pathname;

      // Opening the link signed out asks for the Interim sign-in, on the same page.
      const { page } = await newPerson(browser, s);
      await page.goto(path);
      await page.getByLabel('Email').fill(access.approver.email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Link your Slack account', level: 1 }).waitFor();
      await page.getByText('acme-ops.slack.com').waitFor();
      await page.getByText('@grace', { exact: true }).waitFor();
      await page.getByText(access.approver.email, { exact: true }).waitFor();
      if (shots) await screenshot(page, 'slack-link-confirm', { dark: true });
      // Looking at the page did not spend the token: reloading shows it again.
      await page.reload();
      const confirm = page.getByRole('button', { name: 'Link @grace to my account' });
      await confirm.focus();
      await expect.poll(() => confirm.evaluate((el) => el === document.activeElement)).toBe(true);
      await page.keyboard.press('Enter');
      await page.getByRole('status').getByText('@grace in acme-ops.slack.com now approves and denies as you').waitFor();

      // The same link again: spent.
      await page.goto(path);
      await page.getByRole('alert').getByText('expired or was already used').waitFor();

      // The Account page lists it.
      await page.goto('/account');
      const table = page.getByRole('table', { name: 'Your linked Slack accounts' });
      await table.getByRole('cell', { name: '@grace', exact: true }).waitFor();
      await table.getByRole('cell', { name: 'acme-ops.slack.com', exact: true }).waitFor();
      if (shots) await screenshot(page, 'slack-links-account', { dark: true, fullPage: true });

      // Now the button decides, as Grace.
      const decided = await pressApprove();
      expect(decided).toMatchObject({ replace_original: true });
      expect((await access.requester.client.get(`/api/v1/access-requests/${submitted.body.id}`)).body.status).toBe('approved');

      // The phone layout keeps the table usable; then Grace removes the link.
      await page.setViewportSize(PHONE);
      await page.getByRole('button', { name: 'Remove the link to @grace in acme-ops.slack.com' }).click();
      await page.getByText('No Slack account is linked').waitFor();
      expect((await access.approver.client.get('/api/v1/me/slack-links')).body.items).toEqual([]);
      expect(fake.violations).toEqual([]);
    });
  },
  { INTERIM_OUTBOUND_ALLOW_PRIVATE: 'true', INTERIM_SLACK_API_URL: fake.apiUrl },
);
