import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPerson, PASSWORD, setUpAccess, validRequest, type AccessSetup, type Person } from './helpers/access-fixtures.ts';
import { byLabel, ensurePortalBuilt, launchBrowser, newPerson, PHONE, screenshot, signIn } from './helpers/browser.ts';
import { dialectsUnderTest } from './helpers/dialects.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

/** Waiting for the portal to catch up: generous, since the machine running the tests may be busy. */
const POLL = { timeout: 10_000 };

/** WCAG relative luminance of an sRGB colour given as #rrggbb or rgb(r, g, b). */
function luminance(colour: string): number {
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(colour.trim());
  const hex = short ? [short[0], ...short.slice(1).map((h) => h + h)] : /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour.trim());
  const rgb = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(colour.trim());
  const parts = hex ? hex.slice(1).map((h) => parseInt(h, 16)) : rgb ? rgb.slice(1).map(Number) : null;
  if (!parts) throw new Error(`not a colour: ${colour}`);
  const [r, g, b] = parts.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

/** Text on background: the portal's main pairs, each at least AA (4.5:1 for text, 3:1 for the focus ring). */
const TEXT_PAIRS: [string, string][] = [
  ['--text', '--bg'],
  ['--text', '--surface'],
  ['--text', '--surface-2'],
  ['--muted', '--bg'],
  ['--muted', '--surface'],
  ['--accent', '--surface'],
  ['--accent', '--bg'],
  ['--accent', '--accent-soft'],
  ['--danger', '--surface'],
  ['--danger', '--danger-soft'],
  ['--success', '--success-soft'],
  ['--warning', '--warning-soft'],
  ['--warning', '--surface-2'],
  ['--on-accent', '--accent'],
  ['--on-accent', '--danger'],
];

/**
 * Speed for approvers (issue 14 §4), in Chromium: deciding from the inbox, bulk decisions
 * with a confirm step, keyboard shortcuts and their help dialog, bulk revoke, dark mode,
 * and the phone layout.
 */
describeEachDialect('approver speed in Chromium', (server, dialect) => {
  const shots = dialect === dialectsUnderTest()[0];
  const shot = (page: Page, name: string) => (shots ? screenshot(page, name, { dark: true }) : undefined);
  let browser: Browser;
  let s: AccessSetup;
  let bulkTemplate: string;
  let prodTemplate: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    s = await setUpAccess(server());
    await server().admin.patch(`/api/v1/users/${s.approver.id}`, { name: 'Grace Hopper' });
    await server().admin.patch(`/api/v1/users/${s.admin.id}`, { name: 'Margaret Hamilton' });
    prodTemplate = await s.template({ name: 'Production database', escalation_after_mins: null, escalation_group_id: null, custom_fields: [] });
    bulkTemplate = await s.template({ name: 'Staging database', allow_bulk_decisions: true, escalation_after_mins: null, escalation_group_id: null, custom_fields: [] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const db = () => server().app.core.db;
  const row = (id: string) => db().selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  /** A person with a readable name (createPerson names them by a unique email label). */
  async function named(name: string): Promise<Person> {
    const p = await createPerson(server(), name.split(' ')[0]!.toLowerCase());
    expect((await server().admin.patch(`/api/v1/users/${p.id}`, { name })).status).toBe(200);
    return p;
  }
  async function ask(who: Person, templateId: string): Promise<string> {
    const res = await who.client.post('/api/v1/access-requests', validRequest(templateId, { fields: {}, justification: 'Data fix for ticket OPS-42' }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }
  /** Leaves the approver's inbox empty, so each test sees only its own rows. */
  async function clearInbox() {
    const inbox = await s.approver.client.get('/api/v1/access-requests/inbox?limit=200');
    for (const r of inbox.body.items as { id: string }[]) await s.secondApprover.client.post(`/api/v1/access-requests/${r.id}/deny`, { comment: 'cleared by the test' });
  }
  const inboxRow = (page: Page, who: string, template: string) => page.getByRole('listitem', { name: `${who}'s request for ${template}`, exact: true });
  const announcer = (page: Page) => page.locator('[data-announcer="inbox"]');

  it('approves with a comment and denies from the inbox list, in place, announced', { timeout: 60_000 }, async () => {
    await clearInbox();
    const ada = await named('Ada Lovelace');
    const katherine = await named('Katherine Johnson');
    const adaId = await ask(ada, prodTemplate);
    const katherineId = await ask(katherine, prodTemplate);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.approver.email, PASSWORD, '/inbox');

    const adaRow = inboxRow(page, 'Ada Lovelace', 'Production database');
    await adaRow.getByRole('button', { name: /^Comment on/ }).click();
    await adaRow.getByLabel('Comment').fill('Fine for the data fix');
    await adaRow.getByRole('button', { name: /^Approve/ }).click();
    await adaRow.getByText('Approved by you.').waitFor();
    await expect.poll(() => announcer(page).textContent(), POLL).toContain("Ada Lovelace's request for Production database: Approved by you.");
    expect(await row(adaId)).toMatchObject({ status: 'approved', decision_comment: 'Fine for the data fix', decided_by: s.approver.id });

    const katherineRow = inboxRow(page, 'Katherine Johnson', 'Production database');
    await katherineRow.getByRole('button', { name: /^Deny/ }).click();
    await katherineRow.getByText('Denied by you.').waitFor();
    expect(await row(katherineId)).toMatchObject({ status: 'denied', decision_comment: null });
    // Both rows stay where they were (the refreshed inbox no longer lists them), without their buttons.
    await expect.poll(() => page.getByRole('list', { name: 'Requests waiting for you' }).getByRole('listitem').filter({ has: page.locator('.inbox-outcome') }).count(), POLL).toBe(2);
    expect(await adaRow.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await context.close();
  });

  it('bulk approves the selected requests of a template that allows it, after a confirm step listing them', { timeout: 60_000 }, async () => {
    await clearInbox();
    const people = await Promise.all(['Dorothy Vaughan', 'Mary Jackson', 'Edsger Dijkstra'].map(named));
    // One after another: the inbox lists the oldest first.
    const ids: string[] = [];
    for (const p of people) ids.push(await ask(p, bulkTemplate));
    const barbara = await named('Barbara Liskov');
    const plainId = await ask(barbara, prodTemplate);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.approver.email, PASSWORD, '/inbox');
    await inboxRow(page, 'Dorothy Vaughan', 'Staging database').waitFor();
    await shot(page, 'inbox');

    // Only the rows of the bulk template can be selected.
    expect(await inboxRow(page, 'Barbara Liskov', 'Production database').getByRole('checkbox').count()).toBe(0);
    await page.getByLabel('Select all eligible (3)').check();
    await page.getByText('3 selected').waitFor();
    await page.getByRole('checkbox', { name: "Select Edsger Dijkstra's request for Staging database" }).uncheck();
    await page.getByText('2 selected').waitFor();
    await page.getByRole('button', { name: 'Approve selected…' }).click();

    const dialog = page.getByRole('dialog', { name: 'Approve 2 requests' });
    await dialog.waitFor();
    expect(await dialog.getByRole('list', { name: 'Requests to decide' }).getByRole('listitem').allTextContents()).toEqual([
      expect.stringContaining('Dorothy Vaughan'),
      expect.stringContaining('Mary Jackson'),
    ]);
    await dialog.getByLabel('Comment').fill('Batch for the migration');
    await shot(page, 'inbox-bulk');
    await dialog.getByRole('button', { name: 'Approve 2 requests', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => announcer(page).textContent(), POLL).toBe('2 approved.');
    await inboxRow(page, 'Mary Jackson', 'Staging database').getByText('Approved by you.').waitFor();
    for (const id of ids.slice(0, 2)) expect(await row(id)).toMatchObject({ status: 'approved', decision_comment: 'Batch for the migration', decided_by: s.approver.id });
    expect((await row(ids[2]!)).status).toBe('pending');
    expect((await row(plainId)).status).toBe('pending');
    await context.close();
  });

  it('keyboard shortcuts: j/k move, c comments, a approves, x selects, d denies, ? shows the help; never while typing or with modifiers', { timeout: 60_000 }, async () => {
    await clearInbox();
    const [alan, edsger, frances] = await Promise.all(['Alan Kay', 'Edsger Dijkstra', 'Frances Allen'].map(named));
    const first = await ask(alan!, prodTemplate);
    const second = await ask(edsger!, bulkTemplate);
    const third = await ask(frances!, bulkTemplate);
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.approver.email, PASSWORD, '/inbox');
    const rows = page.getByRole('list', { name: 'Requests waiting for you' }).locator(':scope > li');
    await rows.nth(2).waitFor();
    const focusedRowId = () => page.evaluate(() => document.activeElement?.getAttribute('data-request-id') ?? null);

    // The help: a labelled modal dialog; focus moves in, Esc closes it, focus returns.
    const helpButton = page.getByRole('button', { name: 'Keyboard shortcuts' });
    await helpButton.focus();
    await page.keyboard.press('Enter');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await page.evaluate(() => !!document.activeElement?.closest('dialog[open]'))).toBe(true);
    await help.getByRole('cell', { name: 'Approve the current request' }).waitFor();
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Keyboard shortcuts');
    await page.locator('main h1').focus();
    await page.keyboard.press('?');
    await help.waitFor();
    await shot(page, 'shortcuts-help');
    // Keys inside the dialog do nothing to the list.
    await page.keyboard.press('j');
    expect(await focusedRowId()).toBeNull();
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    // j, j, k: the second row, then back to the first; the current row is marked.
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    expect(await focusedRowId()).toBe(second);
    await page.keyboard.press('k');
    expect(await focusedRowId()).toBe(first);
    expect(await rows.nth(0).getAttribute('aria-current')).toBe('true');
    expect(await rows.nth(0).evaluate((el) => el.classList.contains('is-current') && getComputedStyle(el).boxShadow !== 'none')).toBe(true);
    await page.keyboard.press('ArrowDown');
    expect(await focusedRowId()).toBe(second);
    await page.keyboard.press('ArrowUp');

    // c opens the comment; letters typed there are text, not shortcuts; Esc returns to the row.
    await page.keyboard.press('c');
    const comment = rows.nth(0).getByLabel('Comment');
    await expect.poll(() => comment.evaluate((el) => el === document.activeElement), POLL).toBe(true);
    await page.keyboard.type('a quick check, and ok');
    expect(await comment.inputValue()).toBe('a quick check, and ok');
    expect((await row(first)).status).toBe('pending');
    await page.keyboard.press('Escape');
    expect(await focusedRowId()).toBe(first);
    await page.keyboard.press('a');
    await rows.nth(0).getByText('Approved by you.').waitFor();
    expect(await row(first)).toMatchObject({ status: 'approved', decision_comment: 'a quick check, and ok' });

    // x selects the next row (its template allows bulk decisions); modifiers never act.
    await page.keyboard.press('j');
    await page.keyboard.press('x');
    expect(await rows.nth(1).getByRole('checkbox').isChecked()).toBe(true);
    await page.getByText('1 selected').waitFor();
    await page.keyboard.press('Alt+d');
    await page.keyboard.press('Control+a');
    expect((await row(second)).status).toBe('pending');
    await page.keyboard.press('d');
    await rows.nth(1).getByText('Denied by you.').waitFor();
    expect((await row(second)).status).toBe('denied');
    expect((await row(third)).status).toBe('pending');
    await context.close();
  });

  it('bulk revoke on the active grants page: select, one reason, confirm, per-item results', { timeout: 60_000 }, async () => {
    const holders = await Promise.all(['Hedy Lamarr', 'Radia Perlman', 'Ken Thompson'].map(named));
    const ids: string[] = [];
    for (const h of holders) {
      const id = await ask(h, bulkTemplate);
      expect((await s.approver.client.post(`/api/v1/access-requests/${id}/approve`, {})).status).toBe(200);
      ids.push(id);
    }
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, '/admin/grants');
    await page.getByRole('checkbox', { name: 'Select the grant of Hedy Lamarr for Staging database' }).check();
    await page.getByRole('checkbox', { name: 'Select the grant of Radia Perlman for Staging database' }).check();
    await page.getByText('2 selected').waitFor();
    await page.getByRole('button', { name: 'Revoke selected…' }).click();
    await page.getByText('Say why the access ends.').waitFor();
    await byLabel(page, 'Reason for revoking').fill('Migration finished');
    await page.getByRole('button', { name: 'Revoke selected…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke 2 grants' });
    await dialog.waitFor();
    // In the table's order (newest first), exactly the two chosen.
    expect(await dialog.getByRole('list', { name: 'Grants to revoke' }).getByRole('listitem').allTextContents()).toEqual([
      expect.stringContaining('Radia Perlman'),
      expect.stringContaining('Hedy Lamarr'),
    ]);
    await shot(page, 'grants-bulk-revoke');
    await dialog.getByRole('button', { name: 'Revoke 2 grants', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('[data-announcer="grants"]').textContent(), POLL).toContain('2 revoked.');
    await expect.poll(() => page.getByRole('checkbox', { name: 'Select the grant of Hedy Lamarr for Staging database' }).count(), POLL).toBe(0);
    for (const id of ids.slice(0, 2)) expect(await row(id)).toMatchObject({ status: 'revoked', revoke_reason: 'Migration finished', ended_by: s.admin.id });
    expect((await row(ids[2]!)).status).toBe('approved');
    await context.close();
  });

  it('the template editor turns bulk decisions on with one labelled checkbox', { timeout: 60_000 }, async () => {
    const id = await s.template({ name: 'Analytics warehouse', escalation_after_mins: null, escalation_group_id: null, custom_fields: [] });
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.admin.email, PASSWORD, `/admin/templates/${id}`);
    const box = page.getByRole('checkbox', { name: 'Let approvers decide several requests at once' });
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText(/^Saved as version/).waitFor();
    expect((await server().admin.get(`/api/v1/access-request-templates/${id}`)).body.allow_bulk_decisions).toBe(true);
    await context.close();
  });

  it('dark mode follows the system setting, and the main colour pairs keep WCAG AA contrast in both', { timeout: 60_000 }, async () => {
    const { context, page } = await newPerson(browser, server());
    await signIn(page, s.approver.email, PASSWORD, '/inbox');
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    const read = () =>
      page.evaluate((names) => {
        const root = getComputedStyle(document.documentElement);
        const body = getComputedStyle(document.body);
        return {
          vars: Object.fromEntries(names.map((n) => [n, root.getPropertyValue(n).trim()])),
          body: { color: body.color, background: body.backgroundColor },
          scheme: root.colorScheme,
        };
      }, [...new Set([...TEXT_PAIRS.flat(), '--focus'])]);

    await page.emulateMedia({ colorScheme: 'light' });
    const light = await read();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await read();
    expect(light.scheme).toBe('light dark');
    expect(dark.body.background).not.toBe(light.body.background);
    expect(dark.body.color).not.toBe(light.body.color);
    // Dark is dark: the page is darker than its text.
    expect(luminance(dark.body.background)).toBeLessThan(luminance(dark.body.color));
    for (const [scheme, seen] of [
      ['light', light],
      ['dark', dark],
    ] as const) {
      expect(contrast(seen.body.color, seen.body.background), `${scheme}: body`).toBeGreaterThanOrEqual(4.5);
      for (const [fg, bg] of TEXT_PAIRS) expect(contrast(seen.vars[fg]!, seen.vars[bg]!), `${scheme}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
      expect(contrast(seen.vars['--focus']!, seen.vars['--bg']!), `${scheme}: focus ring`).toBeGreaterThanOrEqual(3);
    }
    // A primary button as drawn, in both schemes: its text against its fill.
    const button = page.getByRole('button', { name: 'Sign out' });
    await button.evaluate((el) => el.classList.add('btn-primary'));
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const drawn = await button.evaluate((el) => ({ color: getComputedStyle(el).color, background: getComputedStyle(el).backgroundColor }));
      expect(contrast(drawn.color, drawn.background), `${colorScheme}: primary button`).toBeGreaterThanOrEqual(4.5);
    }
    await context.close();
  });

  it('phone layout: the inbox row decides with its own buttons, nothing overflows', { timeout: 60_000 }, async () => {
    await clearInbox();
    const grace = await named('Grace Chisholm');
    const id = await ask(grace, bulkTemplate);
    const { context, page } = await newPerson(browser, server(), PHONE);
    await signIn(page, s.approver.email, PASSWORD, '/inbox');
    const item = inboxRow(page, 'Grace Chisholm', 'Staging database');
    await item.waitFor();
    const approve = item.getByRole('button', { name: /^Approve/ });
    const box = (await approve.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    // Nothing in the page's content is wider than the phone (the top navigation scrolls on its own).
    const wide = await page.evaluate((w) => [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > w + 1).map((el) => el.outerHTML.slice(0, 80)), PHONE.width);
    expect(wide).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.getByLabel('Select all eligible (1)').check();
    await page.getByText('1 selected').waitFor();
    await approve.click();
    await item.getByText('Approved by you.').waitFor();
    expect((await row(id)).status).toBe('approved');
    await context.close();
  });
});
