import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGroup, createPerson, PASSWORD, setUpAccess, validRequest } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, signIn } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

/** Issue 12 §1 in the portal: the stages in the template editor, before submitting, and on the request page. */
describeEachDialect('portal in Chromium: approval stages', (server) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('edits stages, shows them before submitting, and shows the stage and who approved on the request page', async () => {
    const s = await setUpAccess(server());
    const reviewer = await createPerson(server(), 'reviewer');
    const security = await createGroup(server(), 'security', [reviewer.id]);
    const securityName = (await server().admin.get(`/api/v1/groups/${security}`)).body.name as string;
    const created = await server().admin.post('/api/v1/access-request-templates', {
      name: `Staged ${Date.now()}`,
      app_id: s.appId,
      mapping_ids: [s.mappingId],
      allowed_durations: [60],
      require_justification: false,
      stages: [{ approver_group_ids: [s.approverGroupId] }, { approver_group_ids: [security], escalation_after_mins: 45, escalation_group_id: s.escalationGroupId }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const templateId = created.body.id as string;

    // The admin raises stage 1's quorum to 2 in the editor.
    const admin = await newPerson(browser, server());
    await signIn(admin.page, s.admin.email, PASSWORD, `/admin/templates/${templateId}`);
    expect(await admin.page.getByLabel('Approval in stages, or more than one approval').isChecked()).toBe(true);
    expect(await admin.page.getByRole('group', { name: 'Stage 2 approver groups' }).getByRole('checkbox', { name: securityName }).isChecked()).toBe(true);
    await byLabel(admin.page, 'Stage 1 approvals needed').fill('2');
    await admin.page.getByRole('button', { name: 'Save template' }).click();
    await admin.page.getByText(/Saved as version 2/).waitFor();
    const saved = (await server().admin.get(`/api/v1/access-request-templates/${templateId}`)).body;
    expect(saved.stages.map((st: { quorum: number }) => st.quorum)).toEqual([2, 1]);
    expect(saved.stages[1]).toMatchObject({ approver_group_ids: [security], escalation_after_mins: 45, escalation_group_id: s.escalationGroupId });
    // A quorum of 0 is refused next to the field.
    await byLabel(admin.page, 'Stage 1 approvals needed').fill('0');
    await admin.page.getByRole('button', { name: 'Save template' }).click();
    await admin.page.getByRole('alert').first().waitFor();
    expect(await byLabel(admin.page, 'Stage 1 approvals needed').getAttribute('aria-invalid')).toBe('true');
    await admin.context.close();

    // Before submitting: who approves each stage and where it escalates.
    const requester = await newPerson(browser, server());
    await signIn(requester.page, s.requester.email, PASSWORD, `/request/${templateId}`);
    const plan = requester.page.getByRole('list', { name: 'Approval stages' });
    await plan.waitFor();
    expect(await plan.textContent()).toContain('Stage 1: 2 approvals from');
    expect(await plan.textContent()).toContain(`Stage 2: ${securityName}`);
    expect(await plan.textContent()).toMatch(/escalates to .*managers.* after 45 min/);
    const submitted = await s.requester.client.post('/api/v1/access-requests', validRequest(templateId, { justification: '', fields: {} }));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const id = submitted.body.id as string;

    // One approval of two: still stage 1, with who approved.
    const approver = await newPerson(browser, server());
    await signIn(approver.page, s.approver.email, PASSWORD, `/requests/${id}`);
    await approver.page.getByRole('button', { name: 'Approve' }).click();
    await approver.page.getByText(/1 of 2 approvals/).waitFor();
    expect(await approver.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await approver.context.close();

    await requester.page.goto(`/requests/${id}`);
    const progress = requester.page.getByRole('region', { name: 'Approval stages' });
    await progress.getByText('stage 1 of 2').waitFor();
    expect(await progress.locator('[data-stage="1"]').textContent()).toMatch(/Approved by approver/);

    expect((await s.secondApprover.client.post(`/api/v1/access-requests/${id}/approve`, {})).status).toBe(200);
    await requester.page.reload();
    await progress.getByText('stage 2 of 2').waitFor();
    expect(await progress.locator('[data-stage="1"]').getAttribute('data-state')).toBe('done');
    expect(await progress.locator('[data-stage="2"]').getAttribute('data-state')).toBe('current');
    await requester.context.close();
  });
});
