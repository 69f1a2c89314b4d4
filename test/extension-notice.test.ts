import { describe, expect, it } from 'vitest';
import { renderEmail } from '../src/modules/notifications/email.ts';
import { renderInApp } from '../src/modules/notifications/in-app.ts';
import { renderSlackMessage } from '../src/modules/notifications/slack.ts';
import { BASE_URL, payloadFor, REQUEST_ID } from './notifications-payloads.ts';

/** The expiry notice of an extendable grant opens the extension form, on every channel (issue 12 §2). */
describe('expiring_soon notice links to the extension form', () => {
  const form = `${BASE_URL}/requests/${REQUEST_ID}?extend=1`;
  const extendable = payloadFor('access_request.expiring_soon', { data: { extendable: true, minutes_left: 15 } });
  const plain = payloadFor('access_request.expiring_soon', { data: { extendable: false, minutes_left: 15 } });

  it('email: the button and the text link go to the form', () => {
    const mail = renderEmail(extendable, 'requester', BASE_URL);
    expect(mail.text).toContain(`Extend your access: ${form}`);
    expect(mail.html).toContain(`href="${form}"`);
    expect(renderEmail(plain, 'requester', BASE_URL).text).not.toContain('?extend=1');
  });

  it('Slack: the button goes to the form', () => {
    const actions = renderSlackMessage(extendable, BASE_URL).blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchObject({ elements: [{ url: form, text: { text: 'Extend access' } }] });
    const plainActions = renderSlackMessage(plain, BASE_URL).blocks.find((b) => b.type === 'actions');
    expect(plainActions).toMatchObject({ elements: [{ url: `${BASE_URL}/requests/${REQUEST_ID}` }] });
  });

  it('in-app: the text says it can be extended (the portal opens the form from the notice)', () => {
    expect(renderInApp(extendable, 'requester').body).toContain('Extend it from the portal');
    expect(renderInApp(plain, 'requester').body).toContain('Ask again from the portal');
  });

  it('words the three extension events for the requester', () => {
    expect(renderInApp(payloadFor('access_request.extended', { data: { auto: false, expires_at: '2026-03-01T15:00:00.000Z' } }), 'requester')).toMatchObject({
      title: 'Your access was extended',
      body: 'Your access to Prod DB (Production access) was extended by Grace Hopper. It now lasts until 2026-03-01 15:00 UTC.',
    });
    expect(renderInApp(payloadFor('access_request.extension_denied'), 'requester').title).toBe('Your extension request was denied');
    expect(renderInApp(payloadFor('access_request.extension_requested'), 'approver')).toMatchObject({
      title: 'Access extension needs your decision',
      body: expect.stringContaining('Ada Lovelace (ada@example.test) asks to extend their access to Prod DB (Production access) by 4 hours.'),
    });
  });
});
