import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

describeEachDialect('portal in Chromium: administration', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('creates a template with the editor, custom fields and notification settings included', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/templates/new');
    const app = await server().admin.get(`/api/v1/applications/${s.appId}`);
    const group = await server().admin.get(`/api/v1/groups/${s.approverGroupId}`);

    await byLabel(page, 'Name').fill(`Staging shell ${Date.now()}`);
    await page.getByLabel('Description').fill('A shell on the staging hosts.');
    await byLabel(page, 'Application').selectOption(s.appId);
    await page.getByRole('checkbox', { name: 'role = prod-admin' }).check();
    await page.getByRole('button', { name: 'Remove 8 hours' }).click();
    await page.getByLabel('Add a duration').fill('2');
    await page.getByLabel('Unit').selectOption({ label: 'days' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('group', { name: /^Approver groups/ }).getByRole('checkbox', { name: group.body.name }).check();
    await page.getByRole('radio', { name: 'N approvers at random' }).check();
    await page.getByLabel('N: how many approvers').fill('2');
    await page.getByRole('button', { name: 'Add a field' }).click();
    await byLabel(page, 'Label').fill('Host');
    await byLabel(page, 'Key').fill('host');
    await page.getByLabel('Type').selectOption('dropdown');
    await page.getByLabel('Options').fill('web-1\nweb-2');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('Created as version 1.').waitFor();

    const id = /\/admin\/templates\/([0-9a-f-]{36})/.exec(new URL(page.url()).pathname)![1]!;
    const saved = await server().admin.get(`/api/v1/access-request-templates/${id}`);
    expect(saved.body).toMatchObject({
      app_id: app.body.id,
      mapping_ids: [s.mappingId],
      allowed_durations: [60, 240, 2880],
      approver_group_ids: [s.approverGroupId],
      notification_policy: 'random_n',
      notification_count: 2,
      escalation_after_mins: null,
      custom_fields: [{ key: 'host', label: 'Host', type: 'dropdown', required: false, options: ['web-1', 'web-2'] }],
      trigger: null,
    });

    // A change is a new version.
    await page.getByLabel('Require a justification').uncheck();
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText('Saved as version 2.').waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${id}`)).body.require_justification).toBe(false);
    await context.close();
  });

  it('warns when nobody active can approve, and makes an open template an explicit choice', async () => {
    const s = await setUpAccess(server());
    const nobody = await server().admin.post('/api/v1/groups', { name: `empty-approvers-${Date.now()}` });
    const templateId = await s.template({ approver_group_ids: [nobody.body.id] });
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, `/admin/templates/${templateId}`);
    await page.getByText('No active user is in these approver groups').waitFor();

    await page.getByRole('radio', { name: 'Anyone who may see the request may approve (open)' }).check();
    expect(await page.getByRole('group', { name: /^Approver groups/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText('Saved as version 2.').waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${templateId}`)).body).toMatchObject({ approval: 'open', approver_group_ids: [], warnings: [] });
    expect(await page.getByText('No active user is in these approver groups').count()).toBe(0);
    await context.close();
  });

  it('does not save over a change made elsewhere (a Terraform apply) since the editor loaded', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, `/admin/templates/${s.templateId}`);
    await page.getByLabel('Description').fill('edited in the portal');
    const elsewhere = await server().admin.patch(`/api/v1/access-request-templates/${s.templateId}`, { description: 'applied by Terraform' });
    expect(elsewhere.body.version).toBe(2);

    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText(/the template changed since you read it: it is now at version 2/).waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${s.templateId}`)).body).toMatchObject({ description: 'applied by Terraform', version: 2 });
    await context.close();
  });

  it('runs a script test and shows the run’s logs', async () => {
    const s = await setUpAccess(server());
    const created = await server().admin.post('/api/v1/scripts', { name: `hello-${Date.now()}`, source: "log.info('hello', config.get('requester_email'));" });
    expect(created.status).toBe(201);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, `/admin/scripts/${created.body.id}`);
    await page.getByLabel('Sample event').selectOption('revoked');
    await page.getByLabel('Config overrides').fill('requester_email=ada@example.com');
    await page.getByRole('button', { name: 'Run test' }).click();
    const result = page.locator('.run-result');
    await result.getByText('succeeded').waitFor();
    expect(await result.locator('pre').textContent()).toBe('[info] hello ada@example.com');
    await page.getByRole('heading', { name: 'Recent runs' }).waitFor();
    await page.getByText('test:revoked').waitFor();
    await context.close();
  });

  it('revokes an active grant from the grants page', async () => {
    const s = await setUpAccess(server());
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(s.templateId));
    expect((await s.approver.client.post(`/api/v1/access-requests/${submitted.body.id}/approve`, {})).status).toBe(200);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/grants');
    const row = page.getByRole('row').filter({ hasText: s.requester.email });
    await row.getByRole('button', { name: /Revoke/ }).click();
    await row.getByRole('button', { name: 'Revoke now' }).click();
    await row.locator('.field-error').waitFor();
    await byLabel(page, 'Reason').fill('Incident closed');
    await row.getByRole('button', { name: 'Revoke now' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await server().admin.get(`/api/v1/access-requests/${submitted.body.id}`)).body).toMatchObject({ status: 'revoked', revoke_reason: 'Incident closed' });
    await context.close();
  });
});
