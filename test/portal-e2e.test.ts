import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyAuditChain } from '../src/modules/audit/audit.verify.ts';
import { PASSWORD, setUpAccess, type AccessSetup } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, liveConnected, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser as OidcBrowser } from './helpers/oidc-browser.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';
import type { TestServer } from './helpers/server.ts';

await ensurePortalBuilt();

/** Friendlier names than the fixtures' unique ones, for what people (and screenshots) read. */
async function humanize(server: TestServer, s: AccessSetup) {
  const rename = async (path: string, body: Record<string, unknown>) => expect((await server.admin.patch(path, body)).status).toBe(200);
  await rename(`/api/v1/users/${s.requester.id}`, { name: 'Ada Lovelace' });
  await rename(`/api/v1/users/${s.approver.id}`, { name: 'Grace Hopper' });
  await rename(`/api/v1/users/${s.secondApprover.id}`, { name: 'Alan Turing' });
  await rename(`/api/v1/users/${s.admin.id}`, { name: 'Margaret Hamilton' });
  await rename(`/api/v1/groups/${s.approverGroupId}`, { name: 'On-call leads' });
  await rename(`/api/v1/groups/${s.escalationGroupId}`, { name: 'Engineering managers' });
  await rename(`/api/v1/access-request-templates/${s.templateId}`, {
    name: 'Production database',
    description: 'Read and write access to the production PostgreSQL cluster, for incidents and migrations.',
  });
  await rename(`/api/v1/applications/${s.appId}`, { name: 'Postgres (production)' });
  await s.template({ name: 'Break-glass (night shift)', description: 'Short emergency access outside office hours, for the on-call engineer.', allowed_durations: [30, 120], custom_fields: [] });
  const team = await server.admin.post('/api/v1/groups', { name: 'Payments team' });
  expect((await server.admin.request('PUT', `/api/v1/groups/${team.body.id}/members/${s.requester.id}`, {})).status).toBeLessThan(300);
}

/** Moves the server's clock on, so that steps get realistic, ordered times. */
const later = (minutes: number) => vi.setSystemTime(Date.now() + minutes * 60_000);

const requestIdFrom = (page: Page) => /\/requests\/([0-9a-f-]{36})$/.exec(new URL(page.url()).pathname)?.[1];

/**
 * The product in one story, in real browsers: a requester asks, an approver sees it
 * arrive live, discusses and approves it, the application's token carries the claim,
 * time passes, the claim is gone, and the admin's audit view shows every step.
 */
describeEachDialect('portal end to end in Chromium', (server, dialect) => {
  // One set of screenshots is enough: take them in the first dialect only.
  const shots = dialect === dialectsUnderTest()[0];
  const shot = (page: Page, name: string, opts?: { fullPage?: boolean }) => (shots ? screenshot(page, name, { dark: true, ...opts }) : undefined);
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

  it('request → live inbox → discussion → approval → claim → expiry → audit trail', { timeout: 120_000 }, async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = await setUpAccess(server());
    await humanize(server(), s);
    const requester = await newPerson(browser, server());
    const approver = await newPerson(browser, server());
    const admin = await newPerson(browser, server());
    const rp = requester.page;
    const ap = approver.page;

    // The approver watches an empty inbox, connected to the live stream.
    await signIn(ap, s.approver.email, PASSWORD, '/inbox');
    await ap.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    await liveConnected(ap);
    expect(await ap.getByRole('link', { name: 'Production database' }).count()).toBe(0);

    // (1) The requester picks the template from the catalogue and submits the form.
    await signIn(rp, s.requester.email, PASSWORD);
    const card = rp.getByRole('listitem').filter({ has: rp.getByRole('heading', { name: 'Production database' }) });
    await card.getByText('On-call leads').waitFor();
    await card.getByText('4 hours').waitFor();
    await shot(rp, 'catalogue');
    await card.getByRole('link', { name: /Request access/ }).click();
    await rp.getByRole('heading', { name: 'Request Production database' }).waitFor();
    await rp.getByRole('radio', { name: '1 hour' }).check();
    await rp.getByLabel('Justification').fill('INC-1234: replica lag in eu-west, need to run the failover script');
    await rp.getByLabel('Incident ticket').fill('INC-1234');
    await rp.getByLabel('Environment').selectOption('prod');
    await shot(rp, 'request-form');
    later(3);
    await rp.getByRole('button', { name: 'Submit request' }).click();
    await rp.waitForURL(/\/requests\/[0-9a-f-]{36}$/);
    const requestId = requestIdFrom(rp)!;
    await rp.getByText('Waiting for a decision').waitFor();

    // (2) It arrives in the approver's inbox without a reload…
    const item = ap.locator(`[data-request-id="${requestId}"]`);
    await item.waitFor({ timeout: 10_000 });
    await item.getByText('INC-1234: replica lag').waitFor();
    // The inbox screenshot is taken by portal-approver-speed.test.ts (decisions in place, bulk).
    // …with everything to decide on: answers, duration, the requester's groups and the thread.
    await item.getByRole('link', { name: 'Production database' }).click();
    await ap.getByRole('heading', { name: 'Your decision' }).waitFor();
    const facts = ap.locator('.facts');
    await facts.getByText('1 hour').waitFor();
    await facts.getByText('INC-1234', { exact: true }).waitFor();
    await facts.getByText('prod', { exact: true }).waitFor();
    await ap.getByRole('list', { name: "Requester's current groups" }).getByText('Payments team').waitFor();

    // They discuss it; the requester sees the comment arrive on their open page.
    later(4);
    await ap.getByLabel('Add a comment').fill('Is the failover script reviewed?');
    await ap.getByRole('button', { name: 'Post comment' }).click();
    await rp.getByText('Is the failover script reviewed?').waitFor({ timeout: 10_000 });
    later(2);
    await rp.getByLabel('Add a comment').fill('Yes, in PR 512.');
    await rp.getByRole('button', { name: 'Post comment' }).click();
    await ap.getByText('Yes, in PR 512.').waitFor({ timeout: 10_000 });
    await shot(ap, 'request-detail', { fullPage: true });

    // The approver approves with a comment; the requester's page turns active live.
    later(1);
    await byLabel(ap, 'Comment').fill('Approved for the incident.');
    await ap.getByRole('button', { name: 'Approve' }).click();
    await ap.getByText('Approved by Grace Hopper').waitFor();
    await rp.getByText('Approved by Grace Hopper').waitFor({ timeout: 10_000 });
    await rp.getByTestId('countdown').waitFor();
    expect(await rp.getByTestId('countdown').textContent()).toMatch(/^(59m|1h 00m|60m)/);

    // (3) The requester's application gets the claim in a fresh token.
    const app = { id: s.appId, secret: s.clientSecret, redirectUri: 'http://127.0.0.1:9/callback' };
    const config = await relyingParty(server(), app);
    const { tokens } = await codeFlow(config, new OidcBrowser(server().url), app, { email: s.requester.email, password: PASSWORD });
    expect(tokens.claims()).toMatchObject({ role: 'prod-admin' });
    expect(await client.fetchUserInfo(config, tokens.access_token, s.requester.id)).toMatchObject({ role: 'prod-admin' });

    await rp.getByRole('link', { name: 'My requests' }).click();
    await rp.getByRole('heading', { name: 'My requests', level: 1 }).waitFor();
    await rp.locator(`[data-status="approved"]`).getByTestId('countdown').waitFor();
    await shot(rp, 'my-requests');

    // (4) Time passes on the server's clock, past the grant's end; the worker runs.
    const { body: approved } = await server().admin.get(`/api/v1/access-requests/${requestId}`);
    expect(approved.status).toBe('approved');
    vi.setSystemTime(Date.parse(approved.expires_at) + 1000);
    await server().app.runWorkerOnce();

    // (5) The grant has expired: the requester's page says so live, and the claim is gone.
    await rp.locator('[data-status="expired"]').waitFor({ timeout: 10_000 });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()).not.toHaveProperty('role');
    expect(await client.fetchUserInfo(config, refreshed.access_token, s.requester.id)).not.toHaveProperty('role');

    // (6) The admin's audit view shows the whole trail of the request.
    await signIn(admin.page, s.admin.email, PASSWORD, `/admin/audit?request_id=${requestId}`);
    const rows = admin.page.locator('.audit-table tbody tr');
    await rows.first().waitFor();
    const actions = await admin.page.locator('.audit-table tbody tr td:nth-child(3)').allTextContents();
    // Without SMTP the notification emails dead-letter at once (delivery.* rows); the request's own story:
    expect(actions.reverse().filter((a) => a.startsWith('access_request.'))).toEqual([
      'access_request.submitted',
      'access_request.comment_added',
      'access_request.comment_added',
      'access_request.approved',
      'access_request.activated',
      'access_request.expired',
    ]);
    await admin.page.locator('.audit-table').getByText('system').first().waitFor();
    const exportHref = await admin.page.getByRole('link', { name: 'CSV' }).getAttribute('href');
    expect(exportHref).toBe(`/api/v1/audit-events/export?request_id=${requestId}&format=csv`);
    const csv = await admin.page.evaluate((href) => fetch(href).then((r) => r.text()), exportHref!);
    expect(csv).toContain('access_request.expired');
    // The audit-log screenshot, with names and links, is taken by portal-search-names.test.ts.
    expect((await verifyAuditChain(server().app.core.db)).ok).toBe(true);

    // The template editor's screenshot is taken by portal-forms-firstrun.test.ts (with its approver choice).

    if (shots) {
      const phone = await newPerson(browser, server(), PHONE);
      await signIn(phone.page, s.requester.email, PASSWORD, '/requests');
      await phone.page.locator('[data-status="expired"]').waitFor();
      await shot(phone.page, 'phone-my-requests');
      await phone.context.close();
    }
    await Promise.all([requester.context.close(), approver.context.close(), admin.context.close()]);
  });
});
