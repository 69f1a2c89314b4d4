import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PASSWORD, setUpAccess } from './helpers/access-fixtures.ts';
import { byLabel, describedError, ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/server.ts';

await ensurePortalBuilt();


const invalid = (page: Page, label: string) => byLabel(page, label).getAttribute('aria-invalid');
const summary = (page: Page) => page.locator('.form-error-summary');
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describeEachDialect('portal in Chromium: forms that help and the first run', (server, dialect) => {
  let browser: Browser;
  // One set of screenshots is enough: take them in the first dialect only.
  const shots = dialect === dialectsUnderTest()[0];
  const shot = (page: Page, name: string, opts?: { fullPage?: boolean }) => (shots ? screenshot(page, name, { ...opts, dark: true }) : undefined);
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  // First in the file: the installation is still empty.
  it('guides a fresh admin through every setup step until the checklist disappears, and can be dismissed', async () => {
    const { context, page } = await newPerson(browser, server());
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD, '/');
    const checklist = page.getByRole('region', { name: 'Set up Interim' });
    await checklist.waitFor();
    const step = (name: string) => checklist.getByRole('listitem').filter({ hasText: name });
    const stepDone = async (name: string) => (await step(name).textContent())!.includes('(done)');
    expect(await checklist.getByRole('listitem').count()).toBe(5);
    await checklist.getByText('5 of 5 steps left').waitFor();
    await shot(page, 'first-run-checklist');

    // On a phone it fits the screen. Dismissed in one browser, it stays away there (and only there).
    const other = await newPerson(browser, server(), PHONE);
    await signIn(other.page, ADMIN_EMAIL, ADMIN_PASSWORD, '/');
    await other.page.getByRole('region', { name: 'Set up Interim' }).getByRole('link', { name: 'Invite users' }).waitFor();
    expect(await fitsWidth(other.page)).toBe(true);
    await other.page.getByRole('button', { name: 'Dismiss the setup checklist' }).click();
    expect(await other.page.getByRole('region', { name: 'Set up Interim' }).count()).toBe(0);
    await other.page.reload();
    await other.page.getByRole('heading', { name: 'Request access' }).waitFor();
    expect(await other.page.getByRole('region', { name: 'Set up Interim' }).count()).toBe(0);
    await other.context.close();

    // 1. A group, reached by keyboard: the link opens the page with its form open.
    await checklist.getByRole('link', { name: 'Create a group' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/admin\/groups\?new=group$/);
    await byLabel(page, 'Name').fill('wiki-editors');
    await page.getByRole('button', { name: 'Add group' }).click();
    await page.getByRole('heading', { name: 'wiki-editors' }).waitFor();
    await page.goto('/');
    await checklist.getByText('4 of 5 steps left').waitFor();
    expect(await stepDone('Create a group')).toBe(true);
    expect(await step('Create a group').getByRole('link').count()).toBe(0);

    // 2. An application.
    await checklist.getByRole('link', { name: 'Register an application' }).click();
    await page.waitForURL(/\/admin\/applications\?new=application$/);
    await byLabel(page, 'Name').fill('Wiki');
    await byLabel(page, 'Redirect URIs').fill('https://wiki.example.test/callback');
    await page.getByRole('button', { name: 'Add application' }).click();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('heading', { name: 'Connect your application' }).waitFor();
    await page.goto('/');
    await checklist.getByText('3 of 5 steps left').waitFor();

    // 3. A mapping, on the application's own page.
    await checklist.getByRole('link', { name: 'Add a mapping to the application' }).click();
    await page.waitForURL(/\/admin\/applications\/[0-9a-f-]{36}\?new=mapping$/);
    await byLabel(page, 'Claim').fill('role');
    await byLabel(page, 'Value').fill('editor');
    await page.getByRole('group', { name: 'Groups that get this claim' }).getByRole('checkbox', { name: 'wiki-editors' }).check();
    await page.getByRole('button', { name: 'Add mapping' }).click();
    await page.getByText('role = editor').waitFor();
    await page.goto('/');
    await checklist.getByText('2 of 5 steps left').waitFor();

    // 4. A template.
    await checklist.getByRole('link', { name: 'Create a template people can request' }).click();
    await page.waitForURL(/\/admin\/templates\/new$/);
    await byLabel(page, 'Name').fill('Wiki editing');
    await byLabel(page, 'Application').selectOption({ label: 'Wiki' });
    await page.getByRole('checkbox', { name: 'role = editor' }).check();
    await page.getByRole('radio', { name: 'Anyone who may see the request may approve (open)' }).check();
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('Created as version 1.').waitFor();
    await page.goto('/');
    await checklist.getByText('1 of 5 steps left').waitFor();

    // 5. A second user: then every step is done and the checklist is gone.
    await checklist.getByRole('link', { name: 'Invite users' }).click();
    await page.waitForURL(/\/admin\/users\?new=user$/);
    await byLabel(page, 'Email').fill('second@example.test');
    await byLabel(page, 'Name').fill('Second Person');
    await page.getByLabel('Initial password').fill('a long enough password');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('link', { name: 'second@example.test' }).or(page.getByText('second@example.test')).first().waitFor();
    await page.goto('/');
    await page.getByRole('list', { name: 'Access you can request' }).waitFor();
    expect(await page.getByRole('region', { name: 'Set up Interim' }).count()).toBe(0);
    expect((await server().admin.get('/api/v1/setup-checklist')).body.done).toBe(true);
    await context.close();
  });

  it('reports every error of a form at once, in plain words, and clears each as its field is fixed', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/users?new=user');
    const add = page.getByRole('button', { name: 'Add user' });
    let posts = 0;
    page.on('request', (r) => void (r.method() === 'POST' && r.url().endsWith('/api/v1/users') && posts++));

    // Checked in the browser first: nothing is sent, both required fields say what to do.
    await add.click();
    await summary(page).getByText('Please correct the 2 fields marked below.').waitFor();
    expect(posts).toBe(0);
    expect(await describedError(page, 'Email')).toBe('Enter an email address');
    expect(await describedError(page, 'Name')).toBe('Enter a name');
    expect(await summary(page).getByRole('link').allTextContents()).toEqual(['Email', 'Name']);
    await shot(page, 'form-errors');
    // The summary's links lead to the fields.
    await summary(page).getByRole('link', { name: 'Name' }).click();
    expect(await byLabel(page, 'Name').evaluate((el) => el === document.activeElement)).toBe(true);

    // Cleared by a change, an error that still holds comes back with the next try.
    await byLabel(page, 'Email').fill('x');
    expect(await invalid(page, 'Email')).toBeNull();
    await byLabel(page, 'Email').fill('');
    await add.click();
    expect(await describedError(page, 'Email')).toBe('Enter an email address');
    expect(posts).toBe(0);

    // Each error goes as soon as its field changes, before anything is sent again.
    await byLabel(page, 'Email').fill('not-an-email');
    expect(await invalid(page, 'Email')).toBeNull();
    expect(await invalid(page, 'Name')).toBe('true');
    await summary(page).getByText('Please correct the field marked below.').waitFor();
    await byLabel(page, 'Name').fill('Casey');
    expect(await summary(page).count()).toBe(0);

    // The API's errors come in the same plain words, and clear the same way.
    await page.getByLabel('Initial password').fill('short');
    await add.click();
    await summary(page).getByText('Please correct the 2 fields marked below.').waitFor();
    expect(posts).toBe(1);
    expect(await describedError(page, 'Email')).toBe('Enter an email address like name@example.com');
    // The API's own words for the password's length are kept.
    expect(await describedError(page, 'Initial password')).toContain('at least 12 characters');
    await byLabel(page, 'Email').fill('casey@example.test');
    expect(await invalid(page, 'Email')).toBeNull();
    expect(await invalid(page, 'Initial password')).toBe('true');
    await page.getByLabel('Initial password').fill('a long enough password');
    expect(await summary(page).count()).toBe(0);
    await add.click();
    await page.getByText('casey@example.test').first().waitFor();
    expect(posts).toBe(2);

    // The template editor: the browser asks for the name and the application, then the API for a mapping.
    await page.goto('/admin/templates/new');
    await page.getByRole('button', { name: 'Create template' }).click();
    expect(await describedError(page, 'Name')).toBe('Enter a name');
    expect(await describedError(page, 'Application')).toBe('Pick an application');
    await byLabel(page, 'Name').fill(`Plain words ${Date.now()}`);
    await byLabel(page, 'Application').selectOption(s.appId);
    expect(await summary(page).count()).toBe(0);
    await page.getByRole('button', { name: 'Create template' }).click();
    const mappings = page.getByRole('group', { name: 'Mappings granted' });
    await mappings.getByText('Choose at least one mapping').waitFor();
    await summary(page).getByRole('link', { name: 'Mappings granted' }).waitFor();
    await mappings.getByRole('checkbox', { name: 'role = prod-admin' }).check();
    expect(await mappings.getByText('Choose at least one mapping').count()).toBe(0);
    await context.close();
  });

  it('makes the approver choice explicit, with member counts, and warns about empty groups and nobody notified', async () => {
    const s = await setUpAccess(server());
    const empty = (await server().admin.post('/api/v1/groups', { name: `nobody-here-${Date.now()}` })).body as { id: string; name: string };
    const staffed = (await server().admin.get(`/api/v1/groups/${s.approverGroupId}`)).body as { name: string };
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/templates/new');
    const who = page.getByRole('group', { name: /^Who approves/ });
    await who.getByRole('radio', { name: 'Anyone who may see the request may approve (open)' }).waitFor();
    await who.getByRole('radio', { name: 'Members of these groups' }).check();
    const approvers = page.getByRole('group', { name: /^Approver groups/ });
    await approvers.getByText(`${staffed.name} (2 active members)`).waitFor();
    await approvers.getByText(`${empty.name} (no active members)`).waitFor();

    const emptyWarning = page.getByText(`No active user is in these approver groups: ${empty.name}.`);
    const nobodyWarning = page.getByText('Nobody would be notified of a new request');
    await approvers.getByRole('checkbox', { name: empty.name }).check();
    await emptyWarning.waitFor();
    await nobodyWarning.getByText(/none of the approver groups has an active member/).or(nobodyWarning).first().waitFor();
    expect(await nobodyWarning.textContent()).toContain('none of the approver groups has an active member');

    // With a staffed group beside it, someone is notified; the empty group still warns.
    await approvers.getByRole('checkbox', { name: staffed.name }).check();
    expect(await nobodyWarning.count()).toBe(0);
    await emptyWarning.waitFor();
    await page.getByText('Notified of a new request: up to 2 people.').waitFor();
    await page.getByRole('radio', { name: 'N approvers at random' }).check();
    await page.getByText('Notified of a new request: up to 1 of 2 people, at random.').waitFor();
    await approvers.getByRole('checkbox', { name: empty.name }).uncheck();
    expect(await emptyWarning.count()).toBe(0);

    // An open template notifies its escalation group: an empty one means nobody.
    await who.getByRole('radio', { name: 'Anyone who may see the request may approve (open)' }).check();
    expect(await approvers.count()).toBe(0);
    await page.getByText('Notified of a new request: the active administrators.').waitFor();
    await page.getByLabel('Escalate a request nobody decides in time').check();
    await page.getByLabel('To group').selectOption(empty.id);
    expect(await nobodyWarning.textContent()).toContain('escalation group, and it has no active member');
    await page.getByLabel('To group').selectOption(s.escalationGroupId);
    expect(await nobodyWarning.count()).toBe(0);

    // The save bar never covers the field in focus: the last one, focused from the top of the page.
    const bar = page.locator('.sticky-actions');
    const fields = page.locator('.template-editor :is(input, select, textarea):visible');
    const last = fields.last();
    await page.evaluate(() => window.scrollTo(0, 0));
    await last.focus();
    const [fieldBox, barBox] = [await last.boundingBox(), await bar.boundingBox()];
    expect(fieldBox!.y + fieldBox!.height).toBeLessThanOrEqual(barBox!.y);
    // And by keyboard: every field tabbed to from the top stays above the bar.
    await page.evaluate(() => window.scrollTo(0, 0));
    await byLabel(page, 'Name').focus();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const covered = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const barEl = document.querySelector('.sticky-actions');
        if (!el || el === document.body || !barEl || barEl.contains(el)) return '';
        const covered = el.getBoundingClientRect().bottom > barEl.getBoundingClientRect().top + 1;
        return covered ? `${el.tagName} ${el.getAttribute('aria-label') ?? (el as HTMLInputElement).name ?? ''} ${el.id} ${el.getBoundingClientRect().bottom} > ${barEl.getBoundingClientRect().top}` : '';
      });
      expect(covered).toBe('');
    }

    // Back to a complete choice for the picture of the editor.
    await byLabel(page, 'Name').fill('Production database');
    await byLabel(page, 'Application').selectOption(s.appId);
    await page.getByRole('checkbox', { name: 'role = prod-admin' }).check();
    await who.getByRole('radio', { name: 'Members of these groups' }).check();
    await approvers.getByRole('checkbox', { name: staffed.name }).check();
    await page.getByRole('radio', { name: 'Everyone who may approve' }).check();
    await shot(page, 'template-editor', { fullPage: true });
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('Created as version 1.').waitFor();
    await context.close();
  });

  it('shows a relying party what to paste, with labelled copy buttons, and never the secret', async () => {
    const s = await setUpAccess(server());
    const app = (await server().admin.get(`/api/v1/applications/${s.appId}`)).body as { client_id: string; redirect_uris: string[] };
    const { context, page } = await newPerson(browser, server());
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await signIn(page, s.admin.email, PASSWORD, `/admin/applications/${s.appId}`);
    const setup = page.getByRole('region', { name: 'Connect your application' });
    const issuer = `${server().url}/oidc`;
    await setup.getByText(issuer, { exact: true }).waitFor();
    await setup.getByText(`${issuer}/.well-known/openid-configuration`, { exact: true }).waitFor();
    await setup.getByText(app.client_id, { exact: true }).waitFor();
    const env = (await setup.getByRole('region', { name: 'Environment variables' }).or(setup.locator('pre[aria-labelledby="rp-env"]')).first().textContent())!;
    expect(env).toContain(`OIDC_ISSUER=${issuer}`);
    expect(env).toContain(`OIDC_CLIENT_ID=${app.client_id}`);
    expect(env).toContain(`OIDC_REDIRECT_URI=${app.redirect_uris[0]}`);
    const code = (await setup.locator('pre[aria-labelledby="rp-code"]').textContent())!;
    expect(code).toContain('client.discovery(');
    expect(code).toContain('client.ClientSecretBasic(process.env.OIDC_CLIENT_SECRET)');
    expect(code).toContain("code_challenge_method: 'S256'");
    expect(await page.content()).not.toContain(s.clientSecret);

    // The discovery document really is where the page says.
    expect((await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()).issuer).toBe(issuer);

    await shot(page, 'application-setup');

    for (const [button, value] of [
      ['Copy client id', app.client_id],
      ['Copy issuer', issuer],
      ['Copy discovery url', `${issuer}/.well-known/openid-configuration`],
      ['Copy environment variables', env],
    ] as const) {
      await setup.getByRole('button', { name: button }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    }
    // Holder groups, explained where mappings are made.
    await page.getByText('their members always have the claim, for as long as they are members').waitFor();
    await context.close();
  });

  it('works by keyboard and on a phone', async () => {
    const s = await setUpAccess(server());
    const { context, page } = await newPerson(browser, server(), PHONE);
    await signIn(page, s.admin.email, PASSWORD, '/admin/groups?new=group');
    // Enter in the empty field sends the form; the summary takes the focus, its link leads to the field.
    await byLabel(page, 'Name').focus();
    await page.keyboard.press('Enter');
    await summary(page).getByText('Please correct the field marked below.').waitFor();
    await page.waitForFunction(() => document.activeElement?.classList.contains('form-error-summary'));
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Name');
    await page.keyboard.press('Enter');
    expect(await byLabel(page, 'Name').evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type('phone-group');
    expect(await summary(page).count()).toBe(0);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'phone-group' }).waitFor();
    expect(await fitsWidth(page)).toBe(true);

    await page.goto(`/admin/applications/${s.appId}`);
    await page.getByRole('region', { name: 'Connect your application' }).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    const copy = page.getByRole('button', { name: 'Copy client id' });
    await copy.focus();
    // Visible focus on the copy button.
    expect(await copy.evaluate((el) => getComputedStyle(el).outlineStyle !== 'none' || getComputedStyle(el).boxShadow !== 'none')).toBe(true);

    await page.goto('/admin/templates/new');
    await page.getByRole('group', { name: /^Who approves/ }).waitFor();
    expect(await fitsWidth(page)).toBe(true);
    await context.close();
  });
});
